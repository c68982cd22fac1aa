import type { LoadedModel } from '../model/model-loader';
import type { BertConfig } from '../model/model-config';
import type { OrtSession, RuntimeTensor } from '../session/ort-session';

/**
 * Sentence embeddings from an encoder: one batched run over right-padded texts, then mean pooling
 * over real tokens and L2 normalisation (done here, not in the graph).
 */
export async function embedTexts(
  session: OrtSession,
  model: LoadedModel,
  texts: readonly string[],
): Promise<number[][]> {
  if (texts.length === 0) return [];
  const cfg = model.config as BertConfig;
  const maxLen = cfg.max_position_embeddings;
  const encoded = texts.map((t) => model.tokenizer.encode(t).slice(0, maxLen));
  const B = texts.length;
  const S = Math.max(1, ...encoded.map((e) => e.length));
  const ids = new BigInt64Array(B * S);
  const mask = new BigInt64Array(B * S);
  encoded.forEach((e, b) =>
    e.forEach((id, j) => {
      ids[b * S + j] = BigInt(id);
      mask[b * S + j] = 1n;
    }),
  );
  const feeds: Record<string, RuntimeTensor> = {
    input_ids: { type: 'int64', data: ids, dims: [B, S] },
    attention_mask: { type: 'int64', data: mask, dims: [B, S] },
  };
  if (session.inputNames.includes('token_type_ids'))
    feeds.token_type_ids = { type: 'int64', data: new BigInt64Array(B * S), dims: [B, S] };
  const out = await session.run(feeds, ['last_hidden_state']);
  const hidden = (out.last_hidden_state as RuntimeTensor).data as Float32Array;
  const H = hidden.length / (B * S);
  return encoded.map((e, b) => {
    const v = new Float64Array(H);
    const n = Math.max(1, e.length);
    for (let j = 0; j < e.length; j++)
      for (let h = 0; h < H; h++) v[h] = (v[h] as number) + (hidden[(b * S + j) * H + h] as number);
    let norm = 0;
    for (let h = 0; h < H; h++) {
      v[h] = (v[h] as number) / n;
      norm += (v[h] as number) ** 2;
    }
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    return Array.from(v, (x) => x * inv);
  });
}
