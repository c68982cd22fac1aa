import { parentPort, workerData } from 'node:worker_threads';
import { IterationScheduler } from '@hotpath/batching';
import { ErrorCode, toErrorCode } from '@hotpath/contracts';
import type { GeneratedToken } from '../generation/generation-types';
import { PrefixKvCache } from '../batching/prefix-cache';
import { ArenaEngine } from '../engine/arena-engine';
import { LocalModel, type DecoderEngine } from '../generation/local-model';
import { WasmEngine } from '../wasm-engine/wasm-engine';
import { currentThreadId } from '../placement/cpu-placement';
import { SequenceState } from '../generation/sequence-state';
import type { FromReplica, ReplicaInit, ReplicaStats, ToReplica } from './replica-protocol';

// One replica: owns one session in this thread, so `session.run` never blocks the main loop.
const init = workerData as ReplicaInit;
const port = parentPort;
const send = (msg: FromReplica): void => port?.postMessage(msg);

// A decode step hands out a token to every running sequence at once: they leave in one message
// (flushed in a microtask, so before the 'finished' of a sequence that ended in the same step).
let tokenBatch: { id: number; token: GeneratedToken }[] = [];
const flushTokens = (): void => {
  const tokens = tokenBatch;
  tokenBatch = [];
  send({ type: 'tokens', tokens });
};
const sendToken = (id: number, token: GeneratedToken): void => {
  if (tokenBatch.length === 0) queueMicrotask(flushTokens);
  tokenBatch.push({ id, token });
};

function errorFields(err: unknown): { code: ErrorCode; message: string } {
  const e = err as Error & { code?: unknown };
  return {
    // Only domain codes cross: a Node error's `ENOENT` is an inference failure to the job.
    code: toErrorCode(e.code, ErrorCode.InferenceFailed),
    message: e.message ?? String(err),
  };
}

async function main(): Promise<void> {
  let model: LocalModel;
  try {
    model = await LocalModel.load(init.dir, {
      onnx: init.onnx,
      execution: init.execution,
      log: (message) => send({ type: 'log', message }),
      warmup: init.warmup,
      engine: init.engine,
      defaultMaxTokens: init.defaultMaxTokens,
    });
  } catch (err) {
    send({ type: 'load-error', ...errorFields(err) });
    return;
  }
  const info = model.info;
  const defaults = info.kind === 'decoder' ? model.generationDefaults : null;
  const prefixCache = defaults && init.prefixCache ? new PrefixKvCache(init.prefixCache) : null;
  const engine = defaults ? model.createEngine(init.scheduler.maxRunningSequences, prefixCache) : null;
  const scheduler = engine
    ? new IterationScheduler<SequenceState, GeneratedToken, number>(engine, init.scheduler, {
        onReport: init.reportBatches ? (report) => send({ type: 'report', report }) : undefined,
      })
    : null;
  send({
    type: 'ready',
    info: {
      dir: info.dir,
      kind: info.kind,
      digest: info.digest,
      config: info.config,
      eosIds: info.eosIds,
      providers: [],
      engine: model.engine,
      tid: currentThreadId(),
    },
  });
  if (init.statsIntervalMs > 0) reportStats(engine, prefixCache);
  port?.on('message', (msg: ToReplica) => {
    if (msg.type === 'abort') return scheduler?.cancel(msg.id);
    if (msg.type === 'embed') return embed(model, msg.id, msg.texts);
    if (!scheduler || !defaults || !engine) {
      send({
        type: 'error',
        id: msg.id,
        code: ErrorCode.InvalidInput,
        message: `${info.dir} cannot generate`,
      });
      return;
    }
    let seq: SequenceState;
    try {
      seq = SequenceState.create(info.tokenizer, msg.request, defaults, info.config.max_position_embeddings);
    } catch (err) {
      send({ type: 'error', id: msg.id, ...errorFields(err) });
      return;
    }
    scheduler
      .submit(msg.id, seq, {
        priority: msg.priority,
        deadlineAt: msg.deadlineAt,
        tag: msg.id,
        onToken: (token) => sendToken(msg.id, token),
      })
      .then(
        (o) =>
          send({
            type: 'finished',
            id: msg.id,
            output: {
              promptTokens: seq.prompt,
              tokens: seq.tokens,
              text: seq.text,
              finishReason: o.finishReason,
              firstTokenMs: o.firstTokenMs,
              inferenceMs: o.inferenceMs,
              batchWaitMs: o.batchWaitMs,
              meanBatchSize: o.meanBatchSize,
              prefixHitTokens: engine.prefixHitTokens(seq),
            },
          }),
        (err: unknown) => send({ type: 'error', id: msg.id, ...errorFields(err) }),
      );
  });
}

/**
 * Posts the arena's and the prefix cache's numbers now and then every `statsIntervalMs`, only when
 * they changed: a few integers read from counters the engine and cache keep anyway, so an idle
 * replica posts nothing and a busy one one small message per interval.
 */
function reportStats(engine: DecoderEngine | null, cache: PrefixKvCache | null): void {
  let last = '';
  const post = (): void => {
    const stats: ReplicaStats = {
      arena: kvStats(engine),
      prefixCache: cache ? { ...cache.stats, maxBytes: cache.settings.maxBytes } : null,
    };
    const text = JSON.stringify(stats);
    if (text === last) return;
    last = text;
    send({ type: 'stats', stats });
  };
  post();
  // unref'd: the message port keeps the thread alive, not this timer.
  setInterval(post, init.statsIntervalMs).unref();
}

function kvStats(engine: DecoderEngine | null): ReplicaStats['arena'] {
  if (!(engine instanceof ArenaEngine || engine instanceof WasmEngine)) return null;
  const s = engine.stats;
  return {
    slotsUsed: s.slotsUsed,
    slots: engine.slots,
    capacity: s.capacity,
    bytes: s.arenaBytes,
    relayouts: s.relayouts,
  };
}

function embed(model: LocalModel, id: number, texts: string[]): void {
  const t0 = performance.now();
  // The encoder sees at most its context of each text: count what it used, and say which were cut.
  const context = model.info.config.max_position_embeddings;
  const full = texts.map((t) => model.info.tokenizer.encode(t).length);
  model.embed(texts).then(
    (embeddings) =>
      send({
        type: 'embedded',
        id,
        embeddings,
        tokenCounts: full.map((n) => Math.min(n, context)),
        truncated: full.flatMap((n, i) => (n > context ? [i] : [])),
        inferenceMs: performance.now() - t0,
      }),
    (err: unknown) => send({ type: 'error', id, ...errorFields(err) }),
  );
}

void main();
