/**
 * A minimal protocol-buffers writer: enough wire format (varint, 64-bit, length-delimited,
 * 32-bit) to serialise ONNX `ModelProto`s. Nested messages keep their chunks by reference, so a
 * several-hundred-megabyte initializer is never copied until the file is written.
 */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.size;
  }

  /** The encoded message as a list of chunks (for streaming to a file). */
  parts(): readonly Uint8Array[] {
    return this.chunks;
  }

  /** The encoded message as one buffer. */
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }

  private push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  private varint(value: bigint | number): void {
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wireType: 0 | 1 | 2 | 5): void {
    this.varint((field << 3) | wireType);
  }

  /** int32/int64/enum/bool field (wire type 0); negative values take ten bytes, as protobuf requires. */
  int(field: number, value: number | bigint): this {
    this.tag(field, 0);
    this.varint(value);
    return this;
  }

  /** float field (wire type 5). */
  float(field: number, value: number): this {
    this.tag(field, 5);
    const b = Buffer.alloc(4);
    b.writeFloatLE(value, 0);
    this.push(b);
    return this;
  }

  /** string field (UTF-8, length-delimited). */
  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  /** bytes field (length-delimited). */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.varint(value.length);
    this.push(value);
    return this;
  }

  /** Embedded message field. */
  message(field: number, msg: ProtoWriter): this {
    this.tag(field, 2);
    this.varint(msg.size);
    for (const c of msg.chunks) this.push(c);
    return this;
  }

  /** Packed repeated int64 field. */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    this.tag(field, 2);
    this.varint(inner.size);
    for (const c of inner.chunks) this.push(c);
    return this;
  }

  /** Packed repeated float field. */
  packedFloats(field: number, values: readonly number[]): this {
    const b = Buffer.alloc(values.length * 4);
    values.forEach((v, i) => b.writeFloatLE(v, i * 4));
    return this.bytes(field, b);
  }
}
