/** Shape of a forged decoder. */
export interface LlamaPreset {
  arch: 'llama';
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  maxPositions: number;
  tied: boolean;
}

/** Shape of a forged encoder. */
export interface BertPreset {
  arch: 'bert';
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  vocab: number;
  maxPositions: number;
}

/**
 * Forge presets: `tiny` (~0.3M parameters, for tests), `small` (~30M), `base` (~110M) decoders,
 * and `tiny-embed`, a MiniLM-shaped encoder.
 */
export const FORGE_PRESETS = {
  tiny: {
    arch: 'llama',
    hidden: 64,
    intermediate: 176,
    layers: 5,
    heads: 4,
    kvHeads: 2,
    vocab: 512,
    maxPositions: 512,
    tied: true,
  },
  small: {
    arch: 'llama',
    hidden: 512,
    intermediate: 1408,
    layers: 8,
    heads: 8,
    kvHeads: 4,
    vocab: 8192,
    maxPositions: 1024,
    tied: true,
  },
  base: {
    arch: 'llama',
    hidden: 768,
    intermediate: 2048,
    layers: 16,
    heads: 12,
    kvHeads: 4,
    vocab: 8192,
    maxPositions: 2048,
    tied: false,
  },
  'tiny-embed': {
    arch: 'bert',
    hidden: 128,
    intermediate: 512,
    layers: 2,
    heads: 4,
    vocab: 1024,
    maxPositions: 512,
  },
} as const satisfies Record<string, LlamaPreset | BertPreset>;

export type ForgePresetName = keyof typeof FORGE_PRESETS;

/** Whether `name` is a known preset. */
export function isForgePreset(name: string): name is ForgePresetName {
  return Object.hasOwn(FORGE_PRESETS, name);
}
