import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { LocalModel, type LocalModelOptions } from '@hotpath/model-runtime';
import type { BenchPrompt } from '../compare/prompt-set';
import { runLevel, type LevelTiming } from './engine-level';

/** What `EngineReplicas` starts a replica thread with. */
export interface EngineReplicaInit {
  dir: string;
  options: Pick<LocalModelOptions, 'engine' | 'execution'>;
}

/** Messages from the bench's main thread. */
export type EngineReplicaRequest =
  { type: 'level'; streams: number; timing: LevelTiming; prompts: BenchPrompt[] } | { type: 'close' };

// One engine replica of `bench engine --replicas N`: the same closed loop as the in-process run, on
// its own thread (session.run blocks the thread it runs on, so replicas need threads of their own).
const port = parentPort;
if (!port) throw new Error('engine-replica.worker must run as a worker thread');
const init = workerData as EngineReplicaInit;

async function serve(p: MessagePort): Promise<void> {
  const model = await LocalModel.load(init.dir, init.options);
  p.on('message', (msg: EngineReplicaRequest) => {
    if (msg.type === 'close') {
      void model.close().then(() => p.close());
      return;
    }
    runLevel(model, msg.streams, msg.timing, msg.prompts).then(
      (measure) => p.postMessage({ type: 'measure', measure }),
      (err: unknown) => p.postMessage({ type: 'error', message: (err as Error).message }),
    );
  });
  p.postMessage({ type: 'ready' });
}

serve(port).catch((err: unknown) => port.postMessage({ type: 'error', message: (err as Error).message }));
