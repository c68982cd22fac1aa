import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphBuilder } from './graph-builder';
import { inspectOnnx } from './onnx-inspect';
import { readProtoFields } from './protobuf-reader';
import { ProtoWriter } from './protobuf-writer';

describe('protobuf + ONNX model writer', () => {
  it('round-trips varints (incl. negative int64), strings and nested messages', () => {
    const inner = new ProtoWriter().string(1, 'hi');
    const buf = new ProtoWriter().int(1, 300).int(2, -1).message(3, inner).toBuffer();
    const f = readProtoFields(buf);
    assert.deepEqual(
      f.map((x) => [x.field, x.wire]),
      [
        [1, 0],
        [2, 0],
        [3, 2],
      ],
    );
    assert.equal(f[0]?.value, 300n);
    assert.equal(f[1]?.value, 2n ** 64n - 1n);
    assert.equal(
      Buffer.from(readProtoFields(f[2]?.value as Uint8Array)[0]?.value as Uint8Array).toString(),
      'hi',
    );
  });

  it('declares inputs/outputs with symbolic and fixed dims, excluding initializers', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['batch', 4]);
    const w = b.initializer('w', [4, 2], new Float32Array(8));
    b.output('y', 'float32', ['batch', 2]);
    b.op('MatMul', [x, w], {}, 'y');
    const sig = inspectOnnx(b.toModelProto().toBuffer());
    assert.equal(sig.opset, 17);
    assert.deepEqual(sig.inputs, [{ name: 'x', elemType: 1, shape: ['batch', 4] }]);
    assert.deepEqual(sig.outputs, [{ name: 'y', elemType: 1, shape: ['batch', 2] }]);
    assert.throws(() => inspectOnnx(Buffer.from('not a model')));
  });
});
