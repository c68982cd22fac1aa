import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { OnnxDtype } from '@hotpath/contracts';

export type { OnnxDtype };

/**
 * The `dtype` names of transformers.js / onnx-community exports and the file suffix of each:
 * `onnx/model_q4.onnx` is the `q4` variant of `onnx/model.onnx`.
 */
export const ONNX_DTYPE_SUFFIXES: Readonly<Record<OnnxDtype, string>> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};
export const ONNX_DTYPES = Object.keys(ONNX_DTYPE_SUFFIXES) as OnnxDtype[];

/**
 * How a folder lays out its graph: `hotpath` (`model.onnx` at the top, as forge and import write),
 * `onnx-community` (transformers.js: `onnx/model*.onnx`), `optimum` (`decoder_model_merged*.onnx`,
 * one graph with and without the KV cache behind a `use_cache_branch` input).
 */
export type FolderLayout = 'hotpath' | 'onnx-community' | 'optimum';

/** One ONNX graph file a folder offers. */
export interface OnnxVariant {
  /** Path relative to the folder, e.g. `onnx/model_q4.onnx`. */
  file: string;
  dtype: OnnxDtype;
  layout: FolderLayout;
  bytes: number;
}

/** Which graph of a folder to serve: a `dtype` (fp32 by default) or an explicit file. */
export interface OnnxSelection {
  dtype?: OnnxDtype;
  /** Path relative to the folder; wins over `dtype`. */
  file?: string;
}

const PLACES: readonly { dir: string; stem: string; layout: FolderLayout }[] = [
  { dir: '', stem: 'model', layout: 'hotpath' },
  { dir: 'onnx/', stem: 'model', layout: 'onnx-community' },
  { dir: '', stem: 'decoder_model_merged', layout: 'optimum' },
  { dir: 'onnx/', stem: 'decoder_model_merged', layout: 'optimum' },
];

/** Graph files that are there but cannot be served alone, with the reason. */
const UNSERVABLE: readonly { file: string; why: string }[] = [
  {
    file: 'decoder_with_past_model.onnx',
    why: "Optimum's split decoder pair is not supported; export the merged decoder_model_merged.onnx (optimum-cli export onnx without --no-post-process)",
  },
  {
    file: 'encoder_model.onnx',
    why: 'encoder-decoder (seq2seq) models are not supported; Hotpath serves decoder-only generators and encoder-only embedders',
  },
  {
    file: 'vision_encoder.onnx',
    why: 'vision-language models are not supported',
  },
];

/** Every graph file of the known layouts present in `dir`, in preference order within a dtype. */
export function listOnnxVariants(dir: string): OnnxVariant[] {
  const out: OnnxVariant[] = [];
  for (const dtype of ONNX_DTYPES) {
    for (const p of PLACES) {
      const file = `${p.dir}${p.stem}${ONNX_DTYPE_SUFFIXES[dtype]}.onnx`;
      const path = join(dir, file);
      if (existsSync(path)) out.push({ file, dtype, layout: p.layout, bytes: statSync(path).size });
    }
  }
  return out;
}

/**
 * Picks the graph to serve. Throws an `Error` whose message names the files looked for or offered
 * (the loader adds the folder and the `invalid_model` code).
 */
export function selectOnnxVariant(dir: string, sel: OnnxSelection = {}): OnnxVariant {
  const variants = listOnnxVariants(dir);
  const offered = (): string =>
    variants.length === 0 ? 'none' : variants.map((v) => `${v.file} (${v.dtype})`).join(', ');
  if (sel.file !== undefined) {
    const found = variants.find((v) => v.file === sel.file);
    if (found) return found;
    const path = join(dir, sel.file);
    if (!existsSync(path)) throw new Error(`missing ${sel.file} (the configured onnx_file)`);
    return { file: sel.file, dtype: 'fp32', layout: 'hotpath', bytes: statSync(path).size };
  }
  if (variants.length === 0) {
    for (const u of UNSERVABLE)
      for (const d of ['', 'onnx/'])
        if (existsSync(join(dir, d + u.file))) throw new Error(`${d}${u.file}: ${u.why}`);
    throw new Error(
      'missing model.onnx (also looked for onnx/model.onnx, decoder_model_merged.onnx and their dtype variants such as onnx/model_q4.onnx)',
    );
  }
  if (sel.dtype !== undefined) {
    const found = variants.find((v) => v.dtype === sel.dtype);
    if (!found) throw new Error(`no ${sel.dtype} graph (dtype ${sel.dtype}); the folder offers ${offered()}`);
    return found;
  }
  const fp32 = variants.find((v) => v.dtype === 'fp32');
  if (fp32) return fp32;
  const dtypes = new Set(variants.map((v) => v.dtype));
  if (dtypes.size === 1) return variants[0] as OnnxVariant;
  throw new Error(`no fp32 graph and no dtype chosen; set dtype to one of: ${offered()}`);
}
