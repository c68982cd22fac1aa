import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BenchPrompt } from '../compare/prompt-set';
import { MAX_WARMUP_MS, type LevelMeasure, type LevelTiming } from './engine-level';
import type { EngineReplicaInit, EngineReplicaRequest } from './engine-replica.worker';

/** Loading a model (and deriving its engine graphs on first use) on a busy host. */
const READY_TIMEOUT_MS = 120_000;

type ReplicaReply =
  { type: 'ready' } | { type: 'measure'; measure: LevelMeasure } | { type: 'error'; message: string };

/** Streams per replica: as even as possible, the first replicas taking the remainder. */
export function splitStreams(streams: number, replicas: number): number[] {
  const base = Math.floor(streams / replicas);
  return Array.from({ length: replicas }, (_, i) => base + (i < streams % replicas ? 1 : 0));
}

/**
 * One level's figure for the whole host from each replica's: throughputs and tokens add up; per-step
 * time, context and decode rows are means over the replicas that ran (the rows one replica's GEMMs
 * see). Every replica reads the CPU time of the whole process over the same window, so that is the
 * mean of theirs, not the sum.
 */
export function combineMeasures(parts: readonly LevelMeasure[]): LevelMeasure {
  const n = Math.max(1, parts.length);
  const sum = (f: (m: LevelMeasure) => number): number => parts.reduce((a, m) => a + f(m), 0);
  return {
    tokensPerS: sum((m) => m.tokensPerS),
    tokens: sum((m) => m.tokens),
    cpuSeconds: sum((m) => m.cpuSeconds) / n,
    decodeTokensPerS: sum((m) => m.decodeTokensPerS),
    stepMs: sum((m) => m.stepMs) / n,
    meanContext: sum((m) => m.meanContext) / n,
    meanDecodeBatch: sum((m) => m.meanDecodeBatch) / n,
  };
}

/**
 * `bench engine --replicas N`: N engines, each on its own worker thread with its own sessions and
 * KV arena, as a worker runs `replicas: N`. A level's streams are split between them and every
 * replica runs the same closed loop at once.
 */
export class EngineReplicas {
  /** Workers whose thread has ended: nothing more will come from them, not even an 'exit'. */
  private readonly exited = new Set<Worker>();
  /** What a replica thread threw, if it did (kept so a later call can say why it ended). */
  private readonly crashes = new Map<Worker, Error>();

  private constructor(private readonly workers: Worker[]) {
    for (const w of workers) {
      w.once('exit', () => this.exited.add(w));
      w.on('error', (err) => this.crashes.set(w, err));
    }
  }

  static async start(count: number, init: EngineReplicaInit): Promise<EngineReplicas> {
    const workers = Array.from(
      { length: count },
      () => new Worker(join(__dirname, 'engine-replica.worker.js'), { workerData: init }),
    );
    const replicas = new EngineReplicas(workers);
    try {
      await Promise.all(workers.map((w) => replicas.next(w, 'ready', READY_TIMEOUT_MS)));
    } catch (err) {
      await replicas.close();
      throw err;
    }
    return replicas;
  }

  async runLevel(
    streams: number,
    timing: LevelTiming,
    prompts: readonly BenchPrompt[],
  ): Promise<LevelMeasure> {
    const shares = splitStreams(streams, this.workers.length);
    const runs = this.workers.flatMap((w, i) => {
      const share = shares[i] ?? 0;
      if (share === 0) return [];
      // A level lasts its warm-up, at most MAX_WARMUP_MS more, and its window; a replica silent
      // well past that is stuck, and the run fails instead of hanging.
      const reply = this.next(w, 'measure', timing.warmupMs + MAX_WARMUP_MS + timing.measureMs + 60_000);
      const msg: EngineReplicaRequest = { type: 'level', streams: share, timing, prompts: [...prompts] };
      w.postMessage(msg);
      return [reply];
    });
    return combineMeasures(await Promise.all(runs));
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        if (this.exited.has(w)) return;
        const exited = new Promise((r) => w.once('exit', r));
        const msg: EngineReplicaRequest = { type: 'close' };
        w.postMessage(msg);
        // A replica stuck in a run is not waited for past a few seconds.
        const timer = setTimeout(() => void w.terminate(), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  /**
   * The next reply of `w`, which must be of `type`: an error reply, a crash, an ended thread or
   * `timeoutMs` without a reply rejects.
   */
  private next(w: Worker, type: 'ready', timeoutMs: number): Promise<void>;
  private next(w: Worker, type: 'measure', timeoutMs: number): Promise<LevelMeasure>;
  private next(w: Worker, type: 'ready' | 'measure', timeoutMs: number): Promise<void | LevelMeasure> {
    return new Promise((resolve, reject) => {
      if (this.exited.has(w))
        return reject(
          new Error(`engine replica thread has ended: ${this.crashes.get(w)?.message ?? 'no error'}`),
        );
      const onExit = (code: number): void => fail(new Error(`engine replica thread exited (code ${code})`));
      const onError = (err: Error): void => fail(err);
      const onMessage = (reply: ReplicaReply): void => {
        settle();
        if (reply.type === 'error') reject(new Error(`engine replica: ${reply.message}`));
        else if (reply.type !== type)
          reject(new Error(`engine replica: expected ${type}, got ${reply.type}`));
        else resolve(reply.type === 'measure' ? reply.measure : undefined);
      };
      const timer = setTimeout(
        () => fail(new Error(`engine replica: no ${type} reply within ${Math.round(timeoutMs / 1000)} s`)),
        timeoutMs,
      );
      const settle = (): void => {
        clearTimeout(timer);
        w.off('exit', onExit);
        w.off('error', onError);
        w.off('message', onMessage);
      };
      const fail = (err: Error): void => {
        settle();
        reject(err);
      };
      w.once('exit', onExit);
      w.once('error', onError);
      w.once('message', onMessage);
    });
  }
}
