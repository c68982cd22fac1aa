import { ErrorCode, HotpathError, type ModelConfig } from '@hotpath/contracts';
import type { BackendDeps, InferenceBackend } from './inference-backend';
import { OnnxBackend } from './onnx-backend';
import { SimBackend } from './sim.backend';
import { TracedBackend } from './traced-backend';

/** Builds the backend of one served model; `startWorker` accepts another one for tests and embedding. */
export type BackendFactory = (model: ModelConfig, deps: BackendDeps) => InferenceBackend;

/**
 * Picks the backend implementation by `model.backend`. The returned backend is not started yet;
 * the worker awaits `start()` before it takes jobs for the model.
 */
export const createBackend: BackendFactory = (model, deps) =>
  new TracedBackend(pickBackend(model, deps), model);

function pickBackend(model: ModelConfig, deps: BackendDeps): InferenceBackend {
  switch (model.backend) {
    case 'sim':
      return new SimBackend(model);
    case 'onnx':
      return createOnnxBackend(model, deps);
    default:
      return unknownBackend(model.backend);
  }
}

/** onnxruntime-node replicas in worker threads (`@hotpath/model-runtime`). */
function createOnnxBackend(model: ModelConfig, deps: BackendDeps): InferenceBackend {
  return new OnnxBackend(model, deps);
}

function unknownBackend(backend: never): never {
  throw new HotpathError(ErrorCode.InvalidConfig, `unknown backend "${String(backend)}"`);
}
