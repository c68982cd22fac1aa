import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DEFAULT_SCHEDULER_POLICY, type BatchReport, type SchedulerPolicy } from '@hotpath/batching';
import { ErrorCode, HotpathError, toErrorCode, type Priority } from '@hotpath/contracts';
import type { PrefixCacheSettings } from '../batching/prefix-cache';
import type { OnnxSelection } from '../model/model-layout';
import type { GeneratedToken, GenerationRequest } from '../generation/generation-types';
import type { EngineMode } from '../generation/local-model';
import type { CpuPlacement } from '../placement/cpu-placement';
import { DEFAULT_EXECUTION, defaultIntraOpThreads, type ExecutionSettings } from '../session/ort-session';
import type {
  FromReplica,
  ReplicaInit,
  ReplicaModelInfo,
  ReplicaStats,
  ScheduledGenerationOutput,
  ToReplica,
} from './replica-protocol';

/**
 * Execution settings of each replica: `intra_op_threads: 0` means the host's cores shared out
 * between the replicas (at least one thread each), so replicas never oversubscribe the cores.
 */
export function replicaExecution(exec: ExecutionSettings, replicas: number): ExecutionSettings {
  if (exec.intra_op_threads > 0) return exec;
  return { ...exec, intra_op_threads: Math.max(1, Math.floor(defaultIntraOpThreads() / replicas)) };
}

const DEFAULT_STATS_INTERVAL_MS = 1000;

/** Options of {@link ReplicaPool.start}. */
export interface ReplicaPoolOptions {
  /** Model folder (any layout of docs/models.md). */
  dir: string;
  /** Which graph of the folder to serve (dtype or file); fp32 `model.onnx` by default. */
  onnx?: OnnxSelection;
  /** Number of replicas = worker threads, each with its own session. */
  replicas: number;
  execution?: ExecutionSettings;
  defaultMaxTokens?: number;
  /** One-line log sink (e.g. the CUDA fallback notice). */
  log?: (msg: string) => void;
  /** Warm each replica up at load (default true). */
  warmup?: boolean;
  /** Which graph decoders run (default `auto`: the arena engine when the folder allows it). */
  engine?: EngineMode;
  /**
   * Continuous batching of generations inside each replica (defaults:
   * {@link DEFAULT_SCHEDULER_POLICY}); `maxRunningSequences: 1` runs one sequence at a time per replica.
   */
  scheduler?: Partial<SchedulerPolicy>;
  /**
   * Reuse of prompt-prefix KV state inside each replica (each replica has its own cache bounded by
   * `maxBytes`). Off when absent.
   */
  prefixCache?: PrefixCacheSettings | null;
  /**
   * Told of every prefill forward and decode run the replicas' schedulers run, with the `tag` of
   * each member; for batch spans. Replicas only report when set.
   */
  onReport?: (report: ReplicaBatchReport) => void;
  /**
   * Told what each replica thread holds (its KV arena and prefix cache), when it changed, at most
   * every `statsIntervalMs`; replicas only report when set.
   */
  onStats?: (replica: number, stats: ReplicaStats) => void;
  /** Default 1000 ms. */
  statsIntervalMs?: number;
  /**
   * Cores of their own for single-thread CPU replicas (one placement per process, shared by its
   * pools); absent: the kernel places them.
   */
  cpuPlacement?: CpuPlacement;
}

/** A {@link BatchReport} of one replica, its members named by their submission tags. */
export interface ReplicaBatchReport extends BatchReport {
  replica: number;
}

/** Hooks of one {@link ReplicaPool.submitGeneration} call. */
export interface SubmitGenerationOptions {
  /** Aborting cancels the sequence at the next token boundary; it resolves with `finishReason: 'cancelled'`. */
  signal?: AbortSignal;
  onToken?: (token: GeneratedToken) => void;
  /** Order among the replica's waiting sequences (with aging). */
  priority?: Priority;
  /** Epoch ms; past it the sequence leaves its replica with `deadline_exceeded`. */
  deadlineAt?: number | null;
  /** Names this sequence in {@link ReplicaPoolOptions.onReport} reports (a trace context, say). */
  tag?: unknown;
}

/** Embeddings and the time the replica spent computing them. */
export interface EmbedOutput {
  embeddings: number[][];
  /** Tokens embedded over all texts (as encoded, BOS included, each at most the model's context). */
  promptTokens: number;
  /** Tokens embedded per text, in order. */
  tokenCounts: number[];
  /** Indexes of the texts longer than the model's context: only their first tokens were embedded. */
  truncated: number[];
  inferenceMs: number;
}

interface Pending {
  onToken?: (token: GeneratedToken) => void;
  tag?: unknown;
  resolve: (msg: FromReplica) => void;
  reject: (err: Error) => void;
  cleanup: () => void;
}

class Replica {
  /** Sequences and embed calls sent and not yet answered (active + queued in the replica). */
  private inFlightCount = 0;
  alive = true;
  readonly pending = new Map<number, Pending>();
  /** Milliseconds spent with work in flight, up to `busySince`. */
  private busyMs = 0;
  private busySince: number | null = null;

  constructor(
    readonly index: number,
    readonly worker: Worker,
  ) {}

  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Sets the in-flight count, accounting busy time: a replica is busy while it has work in flight. */
  set inFlight(n: number) {
    const now = performance.now();
    if (this.inFlightCount === 0 && n > 0) this.busySince = now;
    if (this.inFlightCount > 0 && n === 0 && this.busySince !== null) {
      this.busyMs += now - this.busySince;
      this.busySince = null;
    }
    this.inFlightCount = n;
  }

  /** Cumulative busy milliseconds, the current busy stretch included. */
  busyTime(now = performance.now()): number {
    return this.busyMs + (this.busySince === null ? 0 : now - this.busySince);
  }
}

/**
 * N model replicas, each a `worker_thread` owning its own ONNX Runtime session. Requests go to the
 * least-loaded live replica; generations are continuously batched inside it (an
 * `IterationScheduler` per replica); tokens stream back as messages, so the caller's event loop
 * stays free while replicas compute. A replica that dies fails its in-flight requests with
 * `inference_failed`.
 */
export class ReplicaPool {
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly replicas: Replica[],
    /** The loaded model, as the first replica reported it. */
    readonly info: ReplicaModelInfo,
  ) {}

  /** Starts the replicas and waits until every one has loaded (and warmed up) its session. */
  static async start(opts: ReplicaPoolOptions): Promise<ReplicaPool> {
    if (!Number.isInteger(opts.replicas) || opts.replicas < 1)
      throw new HotpathError(ErrorCode.InvalidConfig, 'replicas must be a positive integer', 'replicas');
    const init: ReplicaInit = {
      dir: opts.dir,
      onnx: opts.onnx,
      execution: replicaExecution(opts.execution ?? DEFAULT_EXECUTION, opts.replicas),
      defaultMaxTokens: opts.defaultMaxTokens,
      warmup: opts.warmup !== false,
      engine: opts.engine ?? 'auto',
      scheduler: { ...DEFAULT_SCHEDULER_POLICY, ...opts.scheduler },
      prefixCache: opts.prefixCache ?? null,
      reportBatches: opts.onReport !== undefined,
      statsIntervalMs: opts.onStats ? (opts.statsIntervalMs ?? DEFAULT_STATS_INTERVAL_MS) : 0,
    };
    const log = opts.log ?? ((): void => undefined);
    const workers = Array.from(
      { length: opts.replicas },
      () => new Worker(join(__dirname, 'replica.worker.js'), { workerData: init }),
    );
    let loggedOnce = false;
    // Listening until every replica is ready: a replica's first stats come right after its own
    // `ready`, before the pool attaches its listener (they are only sent again when they change).
    const loading: ((msg: FromReplica) => void)[] = [];
    const early: (ReplicaStats | undefined)[] = [];
    const ready = workers.map(
      (w, i) =>
        new Promise<ReplicaModelInfo>((resolve, reject) => {
          const onMessage = (msg: FromReplica): void => {
            if (msg.type === 'log') {
              // Every replica hits the same fallback; one line is enough.
              if (!loggedOnce) log(msg.message);
              loggedOnce = true;
            } else if (msg.type === 'stats') {
              early[i] = msg.stats;
            } else if (msg.type === 'ready') {
              w.off('error', reject);
              resolve(msg.info);
            } else if (msg.type === 'load-error') {
              reject(new HotpathError(toErrorCode(msg.code, ErrorCode.InvalidModel), msg.message));
            }
          };
          loading[i] = onMessage;
          w.on('message', onMessage);
          w.once('error', reject);
          w.once('exit', (code) =>
            reject(
              new HotpathError(ErrorCode.InvalidModel, `replica ${i} exited with code ${code} while loading`),
            ),
          );
        }),
    );
    let infos: ReplicaModelInfo[];
    try {
      infos = await Promise.all(ready);
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
    const pool = new ReplicaPool(
      workers.map((w, i) => new Replica(i, w)),
      infos[0] as ReplicaModelInfo,
    );
    for (const r of pool.replicas) {
      const loader = loading[r.index];
      if (loader) r.worker.off('message', loader);
      pool.attach(r, log, opts.onReport, opts.onStats);
      const first = early[r.index];
      if (first) opts.onStats?.(r.index, first);
    }
    if (opts.cpuPlacement) await pool.place(opts.cpuPlacement, infos, init.execution);
    return pool;
  }

  /**
   * Asks `placement` for a core per replica that runs on one thread (the WASM engine; onnxruntime
   * with one intra-op thread on the CPU). A multi-thread session spreads its own pool threads, and
   * a CUDA replica mostly waits on the device: both stay where the kernel puts them.
   */
  private async place(
    placement: CpuPlacement,
    infos: ReplicaModelInfo[],
    exec: ExecutionSettings,
  ): Promise<void> {
    const singleThread = (info: ReplicaModelInfo): boolean =>
      info.engine === 'wasm' || (exec.intra_op_threads === 1 && !exec.providers.includes('cuda'));
    const placed = this.replicas.flatMap((r) => {
      const info = infos[r.index];
      return info?.tid != null && singleThread(info) ? [{ r, tid: info.tid }] : [];
    });
    await placement.place(placed.map((p) => p.tid));
    for (const { r, tid } of placed) r.worker.once('exit', () => placement.release(tid));
  }

  private attach(
    r: Replica,
    log: (msg: string) => void,
    onReport: ReplicaPoolOptions['onReport'],
    onStats: ReplicaPoolOptions['onStats'],
  ): void {
    r.worker.on('message', (msg: FromReplica) => {
      if (msg.type === 'log') return log(msg.message);
      if (msg.type === 'stats') return onStats?.(r.index, msg.stats);
      if (msg.type === 'report') {
        // The replica tags members with their submission ids; the caller's tags live here.
        const tags = msg.report.tags.flatMap((id) => {
          const p = r.pending.get(id);
          return p && p.tag !== undefined ? [p.tag] : [];
        });
        onReport?.({ ...msg.report, replica: r.index, tags });
        return;
      }
      if (msg.type === 'tokens') {
        for (const t of msg.tokens) r.pending.get(t.id)?.onToken?.(t.token);
        return;
      }
      if (!('id' in msg)) return;
      const p = r.pending.get(msg.id);
      if (!p) return;
      r.pending.delete(msg.id);
      r.inFlight--;
      p.cleanup();
      if (msg.type === 'error')
        p.reject(new HotpathError(toErrorCode(msg.code, ErrorCode.InvalidModel), msg.message));
      else p.resolve(msg);
    });
    const die = (why: string): void => {
      if (!r.alive) return;
      r.alive = false;
      if (!this.closed) log(`replica ${r.index} stopped: ${why}`);
      for (const p of r.pending.values()) {
        p.cleanup();
        p.reject(
          new HotpathError(
            this.closed ? ErrorCode.WorkerShutdown : ErrorCode.InferenceFailed,
            `replica ${r.index} stopped: ${why}`,
          ),
        );
      }
      r.pending.clear();
      r.inFlight = 0;
    };
    r.worker.on('error', (err) => die(err.message));
    r.worker.on('exit', (code) => die(`exit code ${code}`));
  }

  /**
   * Cumulative milliseconds each replica has spent with work in flight (sequences or embed calls);
   * the difference between two readings over the time between them is its busy ratio.
   */
  busyTime(): number[] {
    const now = performance.now();
    return this.replicas.map((r) => r.busyTime(now));
  }

  /** Sequences and embed calls in flight (active + queued) per replica; dead replicas report -1. */
  load(): number[] {
    return this.replicas.map((r) => (r.alive ? r.inFlight : -1));
  }

  get size(): number {
    return this.replicas.length;
  }

  private pick(): Replica {
    if (this.closed) throw new HotpathError(ErrorCode.WorkerShutdown, 'replica pool is closed');
    let best: Replica | undefined;
    for (const r of this.replicas) if (r.alive && (!best || r.inFlight < best.inFlight)) best = r;
    if (!best) throw new HotpathError(ErrorCode.InferenceFailed, 'no live replica');
    return best;
  }

  private dispatch(
    msg: ToReplica & { id: number },
    hooks: Pick<SubmitGenerationOptions, 'signal' | 'onToken' | 'tag'> = {},
  ): Promise<FromReplica> {
    return new Promise((resolve, reject) => {
      let r: Replica;
      try {
        r = this.pick();
      } catch (err) {
        reject(err as Error);
        return;
      }
      const signal = hooks.signal;
      const onAbort = (): void => r.worker.postMessage({ type: 'abort', id: msg.id } satisfies ToReplica);
      signal?.addEventListener('abort', onAbort, { once: true });
      r.pending.set(msg.id, {
        onToken: hooks.onToken,
        tag: hooks.tag,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      });
      r.inFlight++;
      r.worker.postMessage(msg);
      if (signal?.aborted) onAbort();
    });
  }

  /**
   * Submits one sequence to the least-loaded replica (fewest active + queued sequences), where it
   * joins the running batch at the next token boundary. Tokens stream through `onToken`; an abort
   * cancels just this sequence. Resolves with its output and how it was served.
   */
  async submitGeneration(
    request: GenerationRequest,
    opts: SubmitGenerationOptions = {},
  ): Promise<ScheduledGenerationOutput> {
    const res = await this.dispatch(
      {
        type: 'submit',
        id: this.nextId++,
        request,
        priority: opts.priority,
        deadlineAt: opts.deadlineAt ?? null,
      },
      opts,
    );
    if (res.type !== 'finished')
      throw new HotpathError(ErrorCode.Internal, `replica answered a generation with ${res.type}`);
    return res.output;
  }

  /** Embeds all texts as one batch on the least-loaded replica. */
  async embed(texts: readonly string[]): Promise<EmbedOutput> {
    const res = await this.dispatch({ type: 'embed', id: this.nextId++, texts: [...texts] });
    if (res.type !== 'embedded')
      throw new HotpathError(ErrorCode.Internal, `replica answered an embed with ${res.type}`);
    return {
      embeddings: res.embeddings,
      promptTokens: res.tokenCounts.reduce((a, b) => a + b, 0),
      tokenCounts: res.tokenCounts,
      truncated: res.truncated,
      inferenceMs: res.inferenceMs,
    };
  }

  /** Stops every replica; in-flight requests fail with `worker_shutdown`. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.replicas.map((r) => r.worker.terminate()));
  }
}
