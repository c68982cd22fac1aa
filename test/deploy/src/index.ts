export {
  renderKustomization,
  readResources,
  imageName,
  imageTag,
  podSpec,
  podContainers,
} from './kustomize/render';
export { type Json, type JsonObject } from './kustomize/json';
export {
  scaledKeys,
  SCALED_KEY_TYPES,
  type ScaledKey,
  type ScaledKeyType,
  KEDA_LENGTH_SCRIPT,
} from './queue-keys';
export { validateResource, KNOWN_KINDS } from './kube-models';
