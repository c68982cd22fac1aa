import { clone, isObject, type Json, type JsonObject } from './json';

/**
 * Merge keys of the built-in list fields the Hotpath manifests patch, as in the Kubernetes API's
 * `patchMergeKey` tags. Lists not named here are replaced by the patch, as Kubernetes does for fields
 * without a merge key (tolerations, HPA metrics, scaling policies, ...).
 */
const MERGE_KEYS: Readonly<Record<string, (items: JsonObject[]) => string>> = {
  containers: () => 'name',
  initContainers: () => 'name',
  env: () => 'name',
  volumes: () => 'name',
  volumeMounts: () => 'mountPath',
  imagePullSecrets: () => 'name',
  // Container ports merge on containerPort, Service ports on port.
  ports: (items) => (items.some((p) => 'containerPort' in p) ? 'containerPort' : 'port'),
};

/** API groups whose kinds get strategic-merge semantics; anything else (CRDs) gets JSON merge patch. */
const BUILT_IN_GROUPS = new Set(['v1', 'apps/v1', 'policy/v1', 'autoscaling/v2', 'batch/v1']);

/**
 * Applies a patch to a resource the way `kustomize` does for the cases the manifests use: strategic
 * merge for built-in kinds (mappings merge, `null` deletes a key, lists with a merge key merge item by
 * item), RFC 7386 JSON merge patch for custom resources (lists are replaced).
 */
export function applyPatch(target: JsonObject, patch: JsonObject): JsonObject {
  const strategic = BUILT_IN_GROUPS.has(String(target['apiVersion']));
  return mergeObject(target, patch, strategic);
}

function mergeObject(base: JsonObject, patch: JsonObject, strategic: boolean): JsonObject {
  const out: JsonObject = clone(base);
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch') continue;
    if (value === null) {
      delete out[key];
      continue;
    }
    const current = out[key];
    if (isObject(value) && isObject(current)) {
      out[key] = mergeObject(current, value, strategic);
    } else if (strategic && Array.isArray(value) && Array.isArray(current) && MERGE_KEYS[key]) {
      out[key] = mergeList(key, current, value);
    } else {
      out[key] = clone(value);
    }
  }
  return out;
}

function mergeList(field: string, base: Json[], patch: Json[]): Json[] {
  const items = [...base, ...patch].filter(isObject);
  const pick = MERGE_KEYS[field];
  if (!pick || items.length !== base.length + patch.length) return clone(patch);
  const mergeKey = pick(items);
  const out: Json[] = clone(base);
  for (const item of patch) {
    if (!isObject(item)) continue;
    const i = out.findIndex((o) => isObject(o) && o[mergeKey] === item[mergeKey]);
    if (i < 0) {
      out.push(clone(item));
    } else if (item['$patch'] === 'delete') {
      out.splice(i, 1);
    } else {
      const existing = out[i];
      out[i] = isObject(existing) ? mergeObject(existing, item, true) : clone(item);
    }
  }
  return out;
}
