import { replicaCount, type ModelConfig } from '@hotpath/contracts';
import { hostCores, replicasThatFit } from '@hotpath/model-runtime';

/**
 * The replicas this worker runs for `model`: its `replicas`, with `auto` resolved against the cores
 * this process can use (a cgroup CPU limit, such as a Kubernetes pod's, counts) and capped at the
 * copies of the model folder its memory holds (docs/engine.md#threads).
 */
export function modelReplicas(model: ModelConfig): number {
  return replicaCount(model, hostCores(), () => replicasThatFit(model.path));
}
