import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { float16Bits, float16Value, fromFloat16, toFloat16 } from './float16';

const isNaNBits = (h: number): boolean => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;

/** The float32 just above / below `v` (both finite, v > 0). */
function nextUp(v: number): number {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer);
  u[0] = (u[0] as number) + 1;
  return f[0] as number;
}
function nextDown(v: number): number {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer);
  u[0] = (u[0] as number) - 1;
  return f[0] as number;
}

describe('float16', () => {
  it('decodes every half exactly and encodes it back to the same bits', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = float16Value(h);
      if (isNaNBits(h)) {
        assert.ok(Number.isNaN(v), `0x${h.toString(16)}`);
        continue;
      }
      assert.equal(Math.fround(v), v, `0x${h.toString(16)} is a float32`);
      assert.equal(float16Bits(v), h, `0x${h.toString(16)} round-trips`);
    }
  });

  it('rounds to nearest, ties to even, at every boundary between two finite halves', () => {
    // Positive halves are ordered like their bits; the midpoint of neighbours is a float32.
    for (let h = 0; h < 0x7bff; h++) {
      const a = float16Value(h);
      const b = float16Value(h + 1);
      const mid = (a + b) / 2;
      assert.equal(Math.fround(mid), mid);
      const even = (h & 1) === 0 ? h : h + 1;
      assert.equal(float16Bits(mid), even, `tie between 0x${h.toString(16)} and 0x${(h + 1).toString(16)}`);
      assert.equal(float16Bits(nextDown(mid)), h);
      assert.equal(float16Bits(nextUp(mid)), h + 1);
      assert.equal(float16Bits(-mid), 0x8000 | even, 'negative values mirror positive ones');
    }
  });

  it('handles overflow, underflow, signed zero, infinities and NaN', () => {
    assert.equal(float16Bits(1), 0x3c00);
    assert.equal(float16Bits(-2), 0xc000);
    assert.equal(float16Bits(65504), 0x7bff); // the largest finite half
    assert.equal(float16Bits(nextDown(65520)), 0x7bff);
    assert.equal(float16Bits(65520), 0x7c00); // the tie past 65504 rounds to even: infinity
    assert.equal(float16Bits(1e6), 0x7c00);
    assert.equal(float16Bits(-1e6), 0xfc00);
    assert.equal(float16Bits(Infinity), 0x7c00);
    assert.equal(float16Bits(-Infinity), 0xfc00);
    assert.ok(isNaNBits(float16Bits(NaN)));
    assert.equal(float16Bits(2 ** -14), 0x0400); // the smallest normal
    assert.equal(float16Bits(2 ** -14 - 2 ** -24), 0x03ff); // the largest subnormal
    assert.equal(float16Bits(2 ** -24), 0x0001); // the smallest subnormal
    assert.equal(float16Bits(2 ** -25), 0x0000); // half of it is a tie: rounds to even zero
    assert.equal(float16Bits(nextUp(2 ** -25)), 0x0001);
    assert.equal(float16Bits(2 ** -30), 0x0000);
    assert.equal(float16Bits(-(2 ** -30)), 0x8000); // underflow keeps the sign
    assert.equal(float16Bits(1e-45), 0x0000); // a float32 subnormal
    assert.equal(float16Bits(0), 0x0000);
    assert.equal(float16Bits(-0), 0x8000);
    assert.ok(Object.is(float16Value(0x8000), -0));
    assert.equal(float16Value(0x7c00), Infinity);
    assert.equal(float16Value(0xfc00), -Infinity);
    assert.equal(float16Value(0x0001), 2 ** -24);
    assert.equal(float16Value(0x3555), 0.333251953125);
  });

  it('converts arrays both ways; fromFloat16 agrees with float16Value on all 65,536 halves', () => {
    const all = Uint16Array.from({ length: 0x10000 }, (_, h) => h);
    const values = fromFloat16(all);
    for (let h = 0; h < 0x10000; h++) {
      const v = values[h] as number;
      if (isNaNBits(h)) assert.ok(Number.isNaN(v));
      else assert.ok(Object.is(v, Math.fround(float16Value(h))), `0x${h.toString(16)}`);
    }
    const x = Float32Array.of(0.1, -3.75, 1234.5, 6.1e-5, 70000, -0);
    const h = toFloat16(x);
    assert.deepEqual(Array.from(h), [0x2e66, 0xc380, 0x64d2, 0x03ff, 0x7c00, 0x8000]);
    const into = new Float32Array(8);
    assert.equal(fromFloat16(h, into), into);
    assert.deepEqual(Array.from(into.subarray(0, 4)), [0.0999755859375, -3.75, 1234, 0.00006097555160522461]);
    assert.throws(() => fromFloat16(h, new Float32Array(2)), RangeError);
  });
});
