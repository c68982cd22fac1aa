import { TOKEN_VECTOR_OUTPUTS, type LoadedModel } from '../model/model-loader';
import { fromFloat16 } from '../session/float16';
import type { OrtSession, RuntimeTensor } from '../session/ort-session';

/**
 * Sentence embeddings from an encoder: one batched run over right-padded texts, then the folder's
 * pooling (mean over real tokens, the CLS token or the last real token) and, when configured,
 * L2 normalisation (done here, not in the graph).
 */
export async function embedTexts(
  session: OrtSession,
  model: LoadedModel,
  texts: readonly string[],
): Promise<number[][]> {
  if (texts.length === 0) return [];
  const maxLen = model.config.max_position_embeddings;
  const encoded = texts.map((t) => {
    const e = model.tokenizer.encodeWithTypes(t);
    return { ids: e.ids.slice(0, maxLen), types: e.typeIds.slice(0, maxLen) };
  });
  const B = texts.length;
  const S = Math.max(1, ...encoded.map((e) => e.ids.length));
  const ids = new BigInt64Array(B * S);
  const mask = new BigInt64Array(B * S);
  const types = new BigInt64Array(B * S);
  encoded.forEach((e, b) =>
    e.ids.forEach((id, j) => {
      ids[b * S + j] = BigInt(id);
      mask[b * S + j] = 1n;
      types[b * S + j] = BigInt(e.types[j] ?? 0);
    }),
  );
  const feeds: Record<string, RuntimeTensor> = {
    input_ids: { type: 'int64', data: ids, dims: [B, S] },
    attention_mask: { type: 'int64', data: mask, dims: [B, S] },
  };
  if (session.inputNames.includes('token_type_ids'))
    feeds.token_type_ids = { type: 'int64', data: types, dims: [B, S] };
  const outName = TOKEN_VECTOR_OUTPUTS.find((o) => session.outputNames.includes(o)) ?? 'last_hidden_state';
  const out = await session.run(feeds, [outName]);
  const t = out[outName] as RuntimeTensor;
  const hidden = t.type === 'float16' ? fromFloat16(t.data as Uint16Array) : (t.data as Float32Array);
  const H = hidden.length / (B * S);
  const { mode, normalize } = model.pooling;
  return encoded.map((e, b) => {
    const v = new Float64Array(H);
    const n = e.ids.length;
    const rows = mode === 'cls' ? [0] : mode === 'last' ? [Math.max(0, n - 1)] : [...Array(n).keys()];
    for (const j of rows)
      for (let h = 0; h < H; h++) v[h] = (v[h] as number) + (hidden[(b * S + j) * H + h] as number);
    const count = Math.max(1, rows.length);
    let norm = 0;
    for (let h = 0; h < H; h++) {
      v[h] = (v[h] as number) / count;
      norm += (v[h] as number) ** 2;
    }
    const inv = normalize && norm > 0 ? 1 / Math.sqrt(norm) : 1;
    return Array.from(v, (x) => x * inv);
  });
}
