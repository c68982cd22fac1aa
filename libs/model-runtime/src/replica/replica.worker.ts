import { parentPort, workerData } from 'node:worker_threads';
import { LocalModel } from '../generation/local-model';
import type { FromReplica, ReplicaInit, ToReplica } from './replica-protocol';

// One replica: owns one session in this thread, so `session.run` never blocks the main loop.
const init = workerData as ReplicaInit;
const port = parentPort;
const send = (msg: FromReplica): void => port?.postMessage(msg);
const aborts = new Map<number, AbortController>();

function errorFields(err: unknown): { code: string; message: string } {
  const e = err as Error & { code?: unknown };
  return {
    code: typeof e.code === 'string' ? e.code : 'inference_failed',
    message: e.message ?? String(err),
  };
}

async function main(): Promise<void> {
  let model: LocalModel;
  try {
    model = await LocalModel.load(init.dir, {
      execution: init.execution,
      log: (message) => send({ type: 'log', message }),
      warmup: init.warmup,
      defaultMaxTokens: init.defaultMaxTokens,
    });
  } catch (err) {
    send({ type: 'load-error', ...errorFields(err) });
    return;
  }
  const info = model.info;
  send({
    type: 'ready',
    info: {
      dir: info.dir,
      kind: info.kind,
      digest: info.digest,
      config: info.config,
      eosIds: info.eosIds,
      providers: [],
    },
  });
  port?.on('message', (msg: ToReplica) => {
    if (msg.type === 'abort') {
      aborts.get(msg.id)?.abort();
      return;
    }
    if (msg.type === 'generate') {
      const ac = new AbortController();
      aborts.set(msg.id, ac);
      model
        .generate(msg.requests, {
          signal: ac.signal,
          onToken: (seq, token) => send({ type: 'token', id: msg.id, seq, token }),
        })
        .then(
          (outputs) => send({ type: 'generated', id: msg.id, outputs }),
          (err: unknown) => send({ type: 'error', id: msg.id, ...errorFields(err) }),
        )
        .finally(() => aborts.delete(msg.id));
      return;
    }
    const t0 = performance.now();
    model.embed(msg.texts).then(
      (embeddings) =>
        send({
          type: 'embedded',
          id: msg.id,
          embeddings,
          promptTokens: msg.texts.reduce((n, t) => n + info.tokenizer.encode(t).length, 0),
          inferenceMs: performance.now() - t0,
        }),
      (err: unknown) => send({ type: 'error', id: msg.id, ...errorFields(err) }),
    );
  });
}

void main();
