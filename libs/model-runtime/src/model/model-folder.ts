import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import { type ProtoWriter } from '../onnx/protobuf-writer';
import type { GenerationConfigJson, HotpathJson, ModelConfigJson } from './model-config';

/** Files of a model folder (docs/models.md) that the digest covers, in digest order. */
export const MODEL_FILES = [
  'config.json',
  'generation_config.json',
  'model.onnx',
  'tokenizer.json',
  'tokenizer_config.json',
] as const;

/** What {@link writeModelFolder} writes. */
export interface ModelFolderContents {
  onnx: ProtoWriter;
  config: ModelConfigJson;
  generationConfig?: GenerationConfigJson;
  tokenizer: unknown;
  tokenizerConfig: Record<string, unknown>;
  hotpath: Omit<HotpathJson, 'digest'>;
}

/**
 * sha256 over the folder's model files (name, size and bytes of each present file in
 * {@link MODEL_FILES} order), as `sha256:<hex>`. `graphFiles` (paths relative to `dir`: the served
 * graph and its external-data files) stand in for `model.onnx`. `hotpath.json` is not covered: it
 * stores the digest.
 */
export function computeModelDigest(dir: string, graphFiles: readonly string[] = ['model.onnx']): string {
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(1 << 22);
  for (const name of MODEL_FILES.flatMap((f) => (f === 'model.onnx' ? graphFiles : [f]))) {
    const path = join(dir, name);
    if (!existsSync(path)) continue;
    hash.update(`${name}\n${statSync(path).size}\n`);
    const fd = openSync(path, 'r');
    try {
      let n: number;
      while ((n = readSync(fd, chunk, 0, chunk.length, null)) > 0) hash.update(chunk.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  }
  return `sha256:${hash.digest('hex')}`;
}

/** Writes `model.onnx` under a temporary name first, so a crash never leaves a truncated graph behind. */
export function writeGraphFile(dir: string, parts: readonly Uint8Array[]): void {
  const tmp = join(dir, `model.onnx.tmp-${process.pid}`);
  const fd = openSync(tmp, 'w');
  try {
    for (const part of parts) writeSync(fd, part);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, 'model.onnx'));
}

/** Writes one JSON file of a model folder, pretty-printed as the folder's other JSON files. */
export function writeFolderJson(dir: string, name: string, value: unknown): void {
  writeFileSync(join(dir, name), `${JSON.stringify(value, null, 2)}\n`);
}

/** Writes a complete model folder (creating `dir`) and returns its content digest. */
export function writeModelFolder(dir: string, c: ModelFolderContents): string {
  mkdirSync(dir, { recursive: true });
  const json = (name: string, value: unknown): void => writeFolderJson(dir, name, value);
  writeGraphFile(dir, c.onnx.parts());
  json('config.json', c.config);
  if (c.generationConfig) json('generation_config.json', c.generationConfig);
  json('tokenizer.json', c.tokenizer);
  json('tokenizer_config.json', c.tokenizerConfig);
  const digest = computeModelDigest(dir);
  json('hotpath.json', { ...c.hotpath, digest } satisfies HotpathJson);
  return digest;
}

/** Reads and parses one JSON file of a model folder, or fails with `invalid_model`. */
export function readFolderJson<T>(dir: string, name: string, required: boolean): T | undefined {
  const path = join(dir, name);
  if (!existsSync(path)) {
    if (required) throw new HotpathError(ErrorCode.InvalidModel, `model folder ${dir}: missing ${name}`);
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new HotpathError(
      ErrorCode.InvalidModel,
      `model folder ${dir}: ${name} is not valid JSON (${(err as Error).message})`,
    );
  }
}
