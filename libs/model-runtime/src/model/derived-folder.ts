import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import type { HotpathJson, ModelConfigJson } from './model-config';
import { computeModelDigest, writeFolderJson, writeGraphFile } from './model-folder';
import type { LoadedModel } from './model-loader';

/** Files and folders of a source folder a derived folder does not copy (its graphs and caches). */
const NOT_COPIED = /^(model\.onnx|hotpath\.json|onnx|\.hotpath|.*\.onnx(_data)?|.*\.onnx\.data)$/;

/** Fails unless `out` is a new or empty folder other than the source. */
export function checkOutputFolder(src: LoadedModel, out: string): string {
  const dir = resolve(out);
  if (dir === resolve(src.dir))
    throw new HotpathError(
      ErrorCode.InvalidInput,
      `--out ${dir} is the source folder; write the result elsewhere`,
      'out',
    );
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new HotpathError(ErrorCode.InvalidInput, `--out ${dir} exists and is not empty`, 'out');
  return dir;
}

/**
 * Writes a folder derived from `src` (quantized, pruned): the new graph as `model.onnx`, the
 * source's tokenizer, generation and pooling files copied as they are, `config` replacing
 * config.json when given, and a `hotpath.json` that records how the folder was made and its new
 * content digest. Returns the digest.
 */
export function writeDerivedFolder(
  src: LoadedModel,
  out: string,
  graph: readonly Uint8Array[],
  meta: Pick<HotpathJson, 'source'> & Partial<Pick<HotpathJson, 'quantization' | 'pruning'>>,
  config?: ModelConfigJson,
): string {
  const dir = checkOutputFolder(src, out);
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(src.dir))
    if (!NOT_COPIED.test(name)) cpSync(join(src.dir, name), join(dir, name), { recursive: true });
  writeGraphFile(dir, graph);
  if (config) writeFolderJson(dir, 'config.json', config);
  const digest = computeModelDigest(dir);
  const hotpath: HotpathJson = {
    task: src.kind === 'decoder' ? 'generate' : 'embed',
    ...(src.hotpath?.batching ? { batching: src.hotpath.batching } : {}),
    ...meta,
    derived_from: src.digest,
    digest,
  };
  writeFolderJson(dir, 'hotpath.json', hotpath);
  return digest;
}
