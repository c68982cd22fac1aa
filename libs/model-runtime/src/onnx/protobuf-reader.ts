/** One decoded protobuf field: varints as bigint, length-delimited as a byte view. */
export type ProtoField =
  | { field: number; wire: 0; value: bigint }
  | { field: number; wire: 2; value: Uint8Array }
  | { field: number; wire: 1 | 5; value: Uint8Array };

/**
 * Splits one protobuf message into its top-level fields without copying. Throws `Error` with a
 * byte offset on truncated or malformed input (the caller turns that into `invalid_model`).
 */
export function readProtoFields(buf: Uint8Array): ProtoField[] {
  const out: ProtoField[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error(`truncated varint at byte ${pos}`);
      const b = buf[pos++] ?? 0;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new Error(`varint too long at byte ${pos}`);
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (field === 0) throw new Error(`field number 0 at byte ${pos}`);
    if (wire === 0) {
      out.push({ field, wire, value: varint() });
    } else if (wire === 2) {
      const len = Number(varint());
      if (pos + len > buf.length) throw new Error(`field ${field} overruns the buffer at byte ${pos}`);
      out.push({ field, wire, value: buf.subarray(pos, pos + len) });
      pos += len;
    } else if (wire === 1 || wire === 5) {
      const len = wire === 1 ? 8 : 4;
      if (pos + len > buf.length) throw new Error(`truncated fixed field at byte ${pos}`);
      out.push({ field, wire, value: buf.subarray(pos, pos + len) });
      pos += len;
    } else {
      throw new Error(`unsupported wire type ${wire} at byte ${pos}`);
    }
  }
  return out;
}
