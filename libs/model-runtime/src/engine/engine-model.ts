import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadedModel } from '../model/model-loader';
import type { LlamaConfig } from '../model/model-config';
import type { ProtoWriter } from '../onnx/protobuf-writer';
import {
  buildEngineGraph,
  buildGqaEngineGraph,
  ENGINE_GRAPH_VERSION,
  gqaGraphSupported,
} from './engine-graph';
import { EngineWeightsUnavailable, engineWeightsFromOnnx } from './engine-weights';
import { readQuantSpec } from '../optimize/graph-weights';
import { quantizeOnnxGraph } from '../optimize/quantize-graph';
import { modelMatmulParameters } from '../roofline/roofline';

/**
 * The engine graphs of a model folder (the wide graph, and the GQA graph when onnxruntime's kernel
 * accepts the model's head size), or why there are none.
 */
export type EngineGraphFile =
  | {
      /** The wide graph (any number of new tokens per row). */
      path: string;
      gqaPath: string | null;
      /**
       * The wide graph's decode-only variant, for a model with a GQA graph and at most
       * {@link DECODE_ONLY_MAX_PARAMS} matmul parameters (else null).
       */
      decodePath: string | null;
      built: boolean;
    }
  | { unavailable: string };

/**
 * Largest model (matmul parameters) whose replicas decode on the wide graph's decode-only variant.
 * Measured per 32-row decode step against the general wide graph (docs/engine.md): −13 to −16 % on
 * stories260K (0.3 M), −6 % at 1.2 M, −5 % at 6.0 M, −1 % on `small` (28 M). The variant puts every
 * prefill on the GQA graph, which takes several rows with cached tokens (prefix-cache hits, prompt
 * chunks) one row per forward; above a few million parameters each extra forward streams enough
 * weights to outweigh the decode gain.
 */
export const DECODE_ONLY_MAX_PARAMS = 4_000_000;

/** Whether a model gets the wide graph's decode-only variant: it has a GQA graph and is small. */
export function hasDecodeOnlyVariant(cfg: LlamaConfig): boolean {
  return gqaGraphSupported(cfg) && modelMatmulParameters(cfg) <= DECODE_ONLY_MAX_PARAMS;
}

/** Folder (inside the model folder) where derived engine graphs are cached. */
export const ENGINE_CACHE_DIR = '.hotpath';

function fileName(model: LoadedModel, variant: '' | '.gqa' | '.decode' = ''): string {
  const digest = model.digest.replace(/^sha256:/, '').slice(0, 16);
  return `engine-v${ENGINE_GRAPH_VERSION}-${digest}${variant}.onnx`;
}

/** Derived graphs of any version and any folder contents (the ones to clean up). */
const ENGINE_FILE = /^engine-v\d+-[0-9a-f]+(\.gqa|\.decode)?\.onnx$/;

/** Writes the parts under a temporary name, then renames: a concurrent reader never sees half a file. */
function writeAtomically(dir: string, name: string, parts: readonly Uint8Array[]): string | null {
  const path = join(dir, name);
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(tmp, 'w');
    try {
      for (const part of parts) writeSync(fd, part);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    return path;
  } catch {
    rmSync(tmp, { force: true });
    return null;
  }
}

/**
 * The engine graphs for `model` (see `buildEngineGraph` and `buildGqaEngineGraph`), derived from the
 * folder's own `model.onnx` on first use and cached next to it as
 * `.hotpath/engine-v<N>-<digest>.onnx`, `….gqa.onnx` and `….decode.onnx` (keyed by
 * the folder's content digest and the graph version, so a changed model or a newer Hotpath never
 * reuses a stale graph). A read-only folder caches under `cacheDir` (default: the OS temp dir).
 * What users store is unchanged: the folder keeps loading in transformers.js and HF tooling.
 * Folders whose graph Hotpath did not write (other initializer names) get `unavailable`.
 */
export function engineGraphFor(
  model: LoadedModel,
  cacheDir = join(tmpdir(), 'hotpath-engine'),
): EngineGraphFile {
  if (model.kind !== 'decoder') return { unavailable: 'not a decoder' };
  const cfg = model.config as LlamaConfig;
  const gqa = gqaGraphSupported(cfg);
  const decodeOnly = hasDecodeOnlyVariant(cfg);
  const names = {
    wide: fileName(model),
    gqa: gqa ? fileName(model, '.gqa') : null,
    decode: decodeOnly ? fileName(model, '.decode') : null,
  };
  const dirs = [join(model.dir, ENGINE_CACHE_DIR), cacheDir];
  const under = (d: string, name: string | null): string | null => name && join(d, name);
  for (const d of dirs)
    if ([names.wide, names.gqa, names.decode].every((n) => !n || existsSync(join(d, n))))
      return {
        path: join(d, names.wide),
        gqaPath: under(d, names.gqa),
        decodePath: under(d, names.decode),
        built: false,
      };
  let graphs: {
    wide: readonly Uint8Array[];
    gqa: readonly Uint8Array[] | null;
    decode: readonly Uint8Array[] | null;
  };
  try {
    const bytes = readFileSync(model.onnxPath);
    const weights = engineWeightsFromOnnx(bytes, cfg);
    const spec = readQuantSpec(bytes);
    // A quantized folder's engine graphs are quantized the same way. A tied classifier is a
    // Transpose of the embedding in the folder's graph, never a quantized weight: keep it float here too.
    const finish = (built: ProtoWriter): readonly Uint8Array[] =>
      spec
        ? [
            quantizeOnnxGraph(built.toBuffer(), {
              ...spec,
              keep_float: weights.head ? spec.keep_float : [...spec.keep_float, 'lm_head'],
            }).model,
          ]
        : built.parts();
    graphs = {
      wide: finish(buildEngineGraph(cfg, weights)),
      gqa: gqa ? finish(buildGqaEngineGraph(cfg, weights)) : null,
      decode: decodeOnly ? finish(buildEngineGraph(cfg, weights, { decodeOnly: true })) : null,
    };
  } catch (err) {
    if (err instanceof EngineWeightsUnavailable) return { unavailable: err.message };
    throw err;
  }
  for (const d of dirs) {
    const path = writeAtomically(d, names.wide, graphs.wide);
    if (!path) continue;
    const gqaPath = names.gqa && graphs.gqa ? writeAtomically(d, names.gqa, graphs.gqa) : null;
    const decodePath = names.decode && graphs.decode ? writeAtomically(d, names.decode, graphs.decode) : null;
    if ((names.gqa && !gqaPath) || (names.decode && !decodePath)) continue;
    // Graphs of an older version or of the folder's previous contents are never read again.
    const current = new Set([names.wide, names.gqa, names.decode]);
    if (d === dirs[0])
      for (const f of readdirSync(d))
        if (ENGINE_FILE.test(f) && !current.has(f)) rmSync(join(d, f), { force: true });
    return { path, gqaPath, decodePath, built: true };
  }
  return { unavailable: `no writable cache folder (${dirs.join(', ')})` };
}
