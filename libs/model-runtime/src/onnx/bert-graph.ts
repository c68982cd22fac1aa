import type { BertConfig, BertWeights } from '../model/model-config';
import { float16Bits, toFloat16 } from '../session/float16';
import { GraphBuilder, type TensorData } from './graph-builder';
import { transpose } from './llama-graph';
import { type ProtoWriter } from './protobuf-writer';

const F32_LOWEST = -3.4028234663852886e38;
/** The most negative finite half: the mask value of a float16 graph. */
const F16_LOWEST = -65504;

/**
 * The ONNX graph of a BERT/MiniLM-style encoder: `input_ids`, `attention_mask`, `token_type_ids`
 * → `last_hidden_state` (post-LayerNorm blocks, exact erf GELU). Pooling happens in TypeScript.
 * `dtype: 'float16'` stores every weight and computes every activation in half precision (a
 * float16 `last_hidden_state`), as the `model_fp16.onnx` of sentence-transformers exports.
 */
export function buildBertGraph(
  cfg: BertConfig,
  w: BertWeights,
  opts: { dtype?: 'float32' | 'float16' } = {},
): ProtoWriter {
  const H = cfg.hidden_size;
  const NH = cfg.num_attention_heads;
  const D = H / NH;
  const I = cfg.intermediate_size;
  const b = new GraphBuilder('bert');
  const half = opts.dtype === 'float16';
  const weight = (x: Float32Array): TensorData => (half ? toFloat16(x) : x);
  const scalar = (v: number): string =>
    half ? b.constant(Uint16Array.of(float16Bits(v)), []) : b.scalarF(v);
  const [Bd, Sd] = ['batch_size', 'sequence_length'];
  const ids = b.input('input_ids', 'int64', [Bd, Sd]);
  const mask = b.input('attention_mask', 'int64', [Bd, Sd]);
  const types = b.input('token_type_ids', 'int64', [Bd, Sd]);
  b.output('last_hidden_state', half ? 'float16' : 'float32', [Bd, Sd, H]);

  const epsAttr = { f: cfg.layer_norm_eps };
  const layerNorm = (x: string, g: string, beta: string): string =>
    b.op('LayerNormalization', [x, g, beta], { axis: -1, epsilon: epsAttr });
  const linear = (
    x: string,
    name: string,
    wt: Float32Array,
    bias: Float32Array,
    inDim: number,
    outDim: number,
  ): string =>
    b.op('Add', [
      b.op('MatMul', [
        x,
        b.initializer(`${name}.weight_t`, [inDim, outDim], weight(transpose(wt, outDim, inDim))),
      ]),
      b.initializer(`${name}.bias`, [outDim], weight(bias)),
    ]);

  const sLen = b.op('Gather', [b.op('Shape', [ids]), b.scalarI(1)], { axis: 0 });
  const positions = b.op('Range', [b.scalarI(0), sLen, b.scalarI(1)]);
  let x = b.op('Add', [
    b.op('Add', [
      b.op(
        'Gather',
        [b.initializer('embeddings.word_embeddings.weight', [cfg.vocab_size, H], weight(w.wordEmb)), ids],
        { axis: 0 },
      ),
      b.op(
        'Gather',
        [
          b.initializer(
            'embeddings.position_embeddings.weight',
            [cfg.max_position_embeddings, H],
            weight(w.posEmb),
          ),
          positions,
        ],
        { axis: 0 },
      ),
    ]),
    b.op(
      'Gather',
      [
        b.initializer('embeddings.token_type_embeddings.weight', [cfg.type_vocab_size, H], weight(w.typeEmb)),
        types,
      ],
      { axis: 0 },
    ),
  ]);
  x = layerNorm(
    x,
    b.initializer('embeddings.LayerNorm.weight', [H], weight(w.embLnG)),
    b.initializer('embeddings.LayerNorm.bias', [H], weight(w.embLnB)),
  );

  const allowed = b.op('Unsqueeze', [b.op('Cast', [mask], { to: 9 }), b.ints([1, 2])]);
  const lowest = scalar(half ? F16_LOWEST : F32_LOWEST);
  const sqrtD = scalar(Math.sqrt(D));
  const halfF = scalar(0.5);
  const oneF = scalar(1);
  const invSqrt2 = scalar(Math.SQRT1_2);

  w.layers.forEach((lw, i) => {
    b.withScope(`/encoder/layer.${i}`, () => {
      const p = `encoder.layer.${i}`;
      const heads = (y: string, perm: number[]): string =>
        b.op('Transpose', [b.op('Reshape', [y, b.ints([0, 0, NH, D])])], { perm });
      const q = heads(linear(x, `${p}.attention.self.query`, lw.wq, lw.bq, H, H), [0, 2, 1, 3]);
      const kT = heads(linear(x, `${p}.attention.self.key`, lw.wk, lw.bk, H, H), [0, 2, 3, 1]);
      const v = heads(linear(x, `${p}.attention.self.value`, lw.wv, lw.bv, H, H), [0, 2, 1, 3]);
      const scores = b.op('Where', [allowed, b.op('Div', [b.op('MatMul', [q, kT]), sqrtD]), lowest]);
      const ctx = b.op('MatMul', [b.op('Softmax', [scores], { axis: -1 }), v]);
      const merged = b.op('Reshape', [b.op('Transpose', [ctx], { perm: [0, 2, 1, 3] }), b.ints([0, 0, H])]);
      const attnOut = linear(merged, `${p}.attention.output.dense`, lw.wo, lw.bo, H, H);
      x = layerNorm(
        b.op('Add', [x, attnOut]),
        b.initializer(`${p}.attention.output.LayerNorm.weight`, [H], weight(lw.ln1G)),
        b.initializer(`${p}.attention.output.LayerNorm.bias`, [H], weight(lw.ln1B)),
      );
      const inter = linear(x, `${p}.intermediate.dense`, lw.w1, lw.b1, H, I);
      const gelu = b.op('Mul', [
        b.op('Mul', [inter, halfF]),
        b.op('Add', [oneF, b.op('Erf', [b.op('Mul', [inter, invSqrt2])])]),
      ]);
      const out = linear(gelu, `${p}.output.dense`, lw.w2, lw.b2, I, H);
      x = layerNorm(
        b.op('Add', [x, out]),
        b.initializer(`${p}.output.LayerNorm.weight`, [H], weight(lw.ln2G)),
        b.initializer(`${p}.output.LayerNorm.bias`, [H], weight(lw.ln2B)),
      );
    });
  });
  b.op('Identity', [x], {}, 'last_hidden_state');
  return b.toModelProto({ model_type: 'bert' });
}
