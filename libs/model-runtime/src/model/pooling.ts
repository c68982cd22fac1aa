import { readFolderJson } from './model-folder';

/** How an encoder's token vectors become one embedding. */
export interface PoolingConfig {
  mode: 'mean' | 'cls' | 'last';
  /** L2-normalise the pooled vector. */
  normalize: boolean;
}

/** Mean over real tokens, then L2 normalisation: the default without sentence-transformers files. */
export const DEFAULT_POOLING: PoolingConfig = { mode: 'mean', normalize: true };

interface StModule {
  path?: string;
  type?: string;
}

const UNSUPPORTED_MODES = [
  'pooling_mode_max_tokens',
  'pooling_mode_mean_sqrt_len_tokens',
  'pooling_mode_weightedmean_tokens',
] as const;

/**
 * Reads sentence-transformers pooling from `modules.json` and the Pooling module's `config.json`
 * (usually `1_Pooling/config.json`): mean, CLS or last-token pooling, and whether a Normalize module
 * follows. Throws an `Error` naming the file and field of anything else (max pooling, Dense layers).
 */
export function readPooling(dir: string): PoolingConfig {
  const modules = readFolderJson<StModule[]>(dir, 'modules.json', false);
  if (!modules) return DEFAULT_POOLING;
  if (!Array.isArray(modules)) throw new Error('modules.json is not a list of modules');
  let mode: PoolingConfig['mode'] = 'mean';
  let normalize = false;
  for (const [i, m] of modules.entries()) {
    const type = String(m.type ?? '');
    if (type.endsWith('.Transformer')) continue;
    if (type.endsWith('.Normalize')) {
      normalize = true;
      continue;
    }
    if (!type.endsWith('.Pooling'))
      throw new Error(
        `modules.json [${i}].type ${JSON.stringify(type)} is not supported (Transformer, Pooling, Normalize)`,
      );
    const file = `${m.path ?? '1_Pooling'}/config.json`;
    const cfg = readFolderJson<Record<string, unknown>>(dir, file, true) as Record<string, unknown>;
    for (const k of UNSUPPORTED_MODES)
      if (cfg[k] === true)
        throw new Error(`${file} ${k} is not supported (mean, CLS and last-token pooling are)`);
    const chosen = [
      cfg.pooling_mode_cls_token === true && 'cls',
      cfg.pooling_mode_mean_tokens === true && 'mean',
      cfg.pooling_mode_lasttoken === true && 'last',
    ].filter((x): x is PoolingConfig['mode'] => typeof x === 'string');
    if (chosen.length !== 1)
      throw new Error(
        `${file} must enable exactly one of pooling_mode_cls_token, pooling_mode_mean_tokens, pooling_mode_lasttoken`,
      );
    mode = chosen[0] as PoolingConfig['mode'];
  }
  return { mode, normalize };
}
