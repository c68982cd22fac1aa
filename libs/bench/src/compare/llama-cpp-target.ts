import { cpus } from 'node:os';
import { join } from 'node:path';
import { exportLlamaGguf, loadModelFolder } from '@hotpath/model-runtime';
import type { Sample, Sender } from '../load-generator';
import type { BenchTarget, LevelLoad } from './bench-target';
import type { BenchPrompt } from './prompt-set';

type NodeLlamaCpp = typeof import('node-llama-cpp', { with: { 'resolution-mode': 'import' } });
type LlamaModel = Awaited<ReturnType<Awaited<ReturnType<NodeLlamaCpp['getLlama']>>['loadModel']>>;
type LlamaContext = Awaited<ReturnType<LlamaModel['createContext']>>;
type LlamaContextSequence = ReturnType<LlamaContext['getSequence']>;
/** node-llama-cpp brands token ids; Hotpath's tokenizer produces the same plain numbers. */
type Token = Parameters<LlamaContextSequence['evaluate']>[0][number];

/**
 * `node-llama-cpp` (an optional dev dependency, ESM only), or the reason it cannot be loaded.
 * Its prebuilt binaries ship inside npm packages; it is never allowed to download or build.
 */
export async function loadNodeLlamaCpp(): Promise<NodeLlamaCpp | string> {
  try {
    return await import('node-llama-cpp');
  } catch (err) {
    return (err as Error).message.split('\n')[0] ?? 'cannot be imported';
  }
}

/** Sequences of one llama.cpp context, one request each; requests beyond them wait for a free one. */
class SequencePool {
  private readonly free: LlamaContextSequence[] = [];
  private readonly waiting: ((s: LlamaContextSequence) => void)[] = [];
  constructor(readonly context: LlamaContext) {
    for (let i = 0; i < context.totalSequences; i++) this.free.push(context.getSequence());
  }
  async acquire(): Promise<LlamaContextSequence> {
    return this.free.pop() ?? new Promise((resolve) => this.waiting.push(resolve));
  }
  async release(s: LlamaContextSequence): Promise<void> {
    await s.clearHistory();
    const next = this.waiting.shift();
    if (next) next(s);
    else this.free.push(s);
  }
}

/** The llama.cpp target, which can also report its greedy tokens for the token-agreement check. */
export interface LlamaCppTarget extends BenchTarget {
  /**
   * Greedy tokens of every prompt of the set (up to `maxTokens`, ending at an EOS id), decoded on
   * `sequences` parallel sequences. One sequence is deterministic; with more, llama.cpp batches
   * whichever sequences are ready together, and the batch shape changes float rounding.
   */
  greedyTokens(maxTokens: number, sequences?: number): Promise<number[][]>;
}

/**
 * `llama.cpp`: the model folder exported as F32 GGUF into `workDir` and run in this process by
 * node-llama-cpp on the CPU with one thread per core (or `threads`). Each request is one context sequence fed
 * the prompt's Hotpath token ids (BOS included) and decoded greedily until an EOS id of the model
 * or its `max_tokens`; a context has as many sequences as the level's concurrency (its own
 * continuous batching), open-loop levels the most the plan uses.
 */
export async function startLlamaCppTarget(opts: {
  lib: NodeLlamaCpp;
  generateDir: string;
  prompts: readonly BenchPrompt[];
  workDir: string;
  /** Sequences for open-loop levels (where the number in flight is not fixed). */
  maxSequences: number;
  /** llama.cpp threads (default: one per core). */
  threads?: number;
}): Promise<LlamaCppTarget> {
  const folder = loadModelFolder(opts.generateDir);
  const ids = opts.prompts.map((p) => folder.tokenizer.encode(p.prompt));
  const stop = new Set(folder.eosIds);
  const ctxTokens = Math.max(...opts.prompts.map((p, i) => (ids[i] as number[]).length + p.maxTokens));
  const gguf = exportLlamaGguf({
    dir: opts.generateDir,
    out: join(opts.workDir, 'llama-cpp.gguf'),
    type: 'f32',
  });
  const threads = opts.threads ?? cpus().length;
  const llama = await opts.lib.getLlama({
    gpu: false,
    build: 'never',
    skipDownload: true,
    maxThreads: threads,
    logLevel: opts.lib.LlamaLogLevel.error,
  });
  const model = await llama.loadModel({ modelPath: gguf.out }).catch(async (err: unknown) => {
    await llama.dispose();
    throw err;
  });
  let pool: SequencePool | undefined;
  const resize = async (sequences: number): Promise<SequencePool> => {
    if (pool?.context.totalSequences === sequences) return pool;
    await pool?.context.dispose();
    pool = undefined;
    const context = await model.createContext({
      sequences,
      contextSize: ctxTokens,
      threads,
    });
    pool = new SequencePool(context);
    return pool;
  };
  await resize(1).catch(async (err: unknown) => {
    await model.dispose();
    await llama.dispose();
    throw err;
  });
  const notes = [
    `llama.cpp: node-llama-cpp with its prebuilt CPU binary, ${threads} threads, the model exported as F32 GGUF (${(gguf.bytes / 2 ** 20).toFixed(1)} MiB); prompts fed as Hotpath token ids.`,
  ];

  /** One greedy generation on a sequence of the current context; `onToken` sees every new token. */
  const decode = async (i: number, maxTokens: number, onToken: () => void): Promise<number[]> => {
    const current = pool as SequencePool;
    const seq = await current.acquire();
    const out: number[] = [];
    try {
      for await (const t of seq.evaluate(ids[i] as Token[], { temperature: 0, yieldEogToken: true })) {
        onToken();
        if (stop.has(t)) break;
        out.push(t);
        if (out.length >= maxTokens) break;
      }
      return out;
    } finally {
      await current.release(seq);
    }
  };

  return {
    system: 'llama.cpp',
    async greedyTokens(maxTokens, sequences = 1) {
      await resize(Math.min(sequences, opts.prompts.length));
      return await Promise.all(opts.prompts.map((_, i) => decode(i, maxTokens, () => undefined)));
    },
    async prepareLevel(load: LevelLoad) {
      await resize('concurrency' in load ? load.concurrency : opts.maxSequences);
    },
    generate(): Sender {
      let n = 0;
      return async (origin): Promise<Sample> => {
        const i = n++ % opts.prompts.length;
        const p = opts.prompts[i] as BenchPrompt;
        let ttftMs: number | undefined;
        try {
          const out = await decode(i, p.maxTokens, () => (ttftMs ??= performance.now() - origin));
          return { ok: true, latencyMs: performance.now() - origin, ttftMs, tokens: out.length };
        } catch (err) {
          return { ok: false, latencyMs: performance.now() - origin, error: (err as Error).message };
        }
      };
    },
    embed: () => undefined,
    notes: () => notes,
    async stop() {
      await pool?.context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}
