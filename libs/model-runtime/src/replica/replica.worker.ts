import { parentPort, workerData } from 'node:worker_threads';
import { IterationScheduler } from '@hotpath/batching';
import { ErrorCode, toErrorCode } from '@hotpath/contracts';
import type { GeneratedToken } from '../generation/generation-types';
import { PrefixKvCache } from '../batching/prefix-cache';
import { LocalModel } from '../generation/local-model';
import { SequenceState } from '../generation/sequence-state';
import type { FromReplica, ReplicaInit, ToReplica } from './replica-protocol';

// One replica: owns one session in this thread, so `session.run` never blocks the main loop.
const init = workerData as ReplicaInit;
const port = parentPort;
const send = (msg: FromReplica): void => port?.postMessage(msg);

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
  const engine = defaults
    ? model.createEngine(
        init.scheduler.maxRunningSequences,
        init.prefixCache ? new PrefixKvCache(init.prefixCache) : null,
      )
    : null;
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
    },
  });
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
        onToken: (token) => send({ type: 'token', id: msg.id, token }),
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
