import { replicaCount, type ModelConfig } from '@hotpath/contracts';
import { hostCores } from '@hotpath/model-runtime';

/**
 * The replicas this worker runs for `model`: its `replicas`, with `auto` resolved against the cores
 * this process can use (a cgroup CPU limit, such as a Kubernetes pod's, counts).
 */
export function modelReplicas(model: ModelConfig): number {
  return replicaCount(model, hostCores());
}
