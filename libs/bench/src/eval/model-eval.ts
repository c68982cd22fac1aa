import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_EXECUTION,
  LocalModel,
  greedyAgreement,
  measureFidelity,
  sampleText,
  type FidelityReport,
  type GreedyAgreement,
} from '@hotpath/model-runtime';
import { promptSet } from '../compare/prompt-set';
import { runEngineBench } from '../engine/engine-bench';

/** Options of `hotpath models eval`. */
export interface ModelEvalOptions {
  dir: string;
  against: string | undefined;
  /** Text file to score; absent: text sampled from the reference (or the model) itself. */
  textFile: string | undefined;
  /** Where to save the sampled text (to keep it as a fixture). */
  writeText: string | undefined;
  window: number;
  prompts: number;
  greedyTokens: number;
  /** Seconds per speed level; 0 skips the speed measurement. */
  speedSeconds: number;
  threads: number;
}

/** The whole report (`--json`). */
export interface ModelEvalReport {
  model: { dir: string; digest: string; bytes: number; quantization: unknown; pruning: unknown };
  reference: { dir: string; digest: string; bytes: number } | null;
  text: { source: string; tokens: number };
  fidelity: FidelityReport;
  greedy: (GreedyAgreement & { tokens: number }) | null;
  speed: {
    tokens_per_s_1: number;
    tokens_per_s_16: number;
    decode_tokens_per_s_1: number;
    decode_tokens_per_s_16: number;
    reference: {
      tokens_per_s_1: number;
      tokens_per_s_16: number;
      decode_tokens_per_s_1: number;
      decode_tokens_per_s_16: number;
    } | null;
  } | null;
}

/** Bytes of a folder's files, without the derived engine-graph cache. */
export function folderBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === '.hotpath') continue;
    const p = join(dir, e.name);
    total += e.isDirectory() ? folderBytes(p) : statSync(p).size;
  }
  return total;
}

const plain = (dir: string, threads: number): Promise<LocalModel> =>
  LocalModel.load(dir, {
    engine: 'plain',
    warmup: false,
    execution: { ...DEFAULT_EXECUTION, intra_op_threads: threads },
  });

async function speedOf(dir: string, seconds: number, threads: number, progress: (l: string) => void) {
  const r = await runEngineBench(
    {
      model: { dir },
      streams: [1, 16],
      tokens: 64,
      warmupMs: 1000,
      measureMs: seconds * 1000,
      replicas: 1,
      prefillChunkTokens: 512,
      decodeStepsPerPrefill: 1,
      threads,
      gqaMaxRows: undefined,
      gqaChunkRows: undefined,
      engine: 'arena',
      json: false,
      outFile: undefined,
      quick: true,
      interactive: false,
    },
    progress,
  );
  const at = (s: number) => r.levels.find((l) => l.streams === s);
  return {
    tokens_per_s_1: at(1)?.tokens_per_s ?? 0,
    tokens_per_s_16: at(16)?.tokens_per_s ?? 0,
    decode_tokens_per_s_1: at(1)?.decode_tokens_per_s ?? 0,
    decode_tokens_per_s_16: at(16)?.decode_tokens_per_s ?? 0,
  };
}

/**
 * `hotpath models eval`: fidelity (perplexity; with a reference, top-1 agreement, KL divergence
 * and greedy agreement), speed (one and 16 streams through the engine) and size of a folder.
 */
export async function runModelEval(
  opts: ModelEvalOptions,
  progress: (l: string) => void,
): Promise<ModelEvalReport> {
  const model = await plain(opts.dir, opts.threads);
  const reference = opts.against ? await plain(opts.against, opts.threads) : undefined;
  try {
    let text: string;
    let source: string;
    if (opts.textFile) {
      text = readFileSync(opts.textFile, 'utf8');
      source = opts.textFile;
    } else {
      progress('sampling a held-out text from the reference model…');
      text = await sampleText(reference ?? model, { seed: 20261202, passages: 16, tokens: 128 });
      source = `sampled from ${(reference ?? model).info.dir} (seed 20261202, 16 × 128 tokens, temperature 1)`;
      if (opts.writeText) (await import('node:fs')).writeFileSync(opts.writeText, text);
    }
    const tokens = model.info.tokenizer.encode(text);
    progress(`scoring ${tokens.length} tokens…`);
    const fidelity = await measureFidelity(model, tokens, { window: opts.window, reference });
    let greedy: ModelEvalReport['greedy'] = null;
    if (reference) {
      progress('greedy agreement…');
      const prompts = promptSet(7, opts.prompts).map((p) => model.info.tokenizer.encode(p.prompt));
      greedy = {
        ...(await greedyAgreement(model, reference, prompts, opts.greedyTokens)),
        tokens: opts.greedyTokens,
      };
    }
    let speed: ModelEvalReport['speed'] = null;
    if (opts.speedSeconds > 0) {
      progress('speed of the model…');
      const own = await speedOf(opts.dir, opts.speedSeconds, opts.threads, progress);
      const ref = opts.against
        ? await speedOf(opts.against, opts.speedSeconds, opts.threads, progress)
        : null;
      speed = { ...own, reference: ref };
    }
    return {
      model: {
        dir: opts.dir,
        digest: model.info.digest,
        bytes: folderBytes(opts.dir),
        quantization: model.info.hotpath?.quantization ?? null,
        pruning: model.info.hotpath?.pruning ?? null,
      },
      reference: reference
        ? { dir: reference.info.dir, digest: reference.info.digest, bytes: folderBytes(reference.info.dir) }
        : null,
      text: { source, tokens: tokens.length },
      fidelity,
      greedy,
      speed,
    };
  } finally {
    await model.close();
    await reference?.close();
  }
}
