/** A parsed YAML/JSON value. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
/** A parsed YAML/JSON mapping (a Kubernetes object, or any part of one). */
export interface JsonObject {
  [key: string]: Json;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The mapping at `path` below `root`, or `undefined` when any step is missing or not a mapping. */
export function objAt(root: Json | undefined, ...path: (string | number)[]): JsonObject | undefined {
  const v = at(root, ...path);
  return isObject(v) ? v : undefined;
}

/** The array at `path`, or `[]`. */
export function arrAt(root: Json | undefined, ...path: (string | number)[]): Json[] {
  const v = at(root, ...path);
  return Array.isArray(v) ? v : [];
}

/** The array of mappings at `path` (non-mappings dropped), or `[]`. */
export function objsAt(root: Json | undefined, ...path: (string | number)[]): JsonObject[] {
  return arrAt(root, ...path).filter(isObject);
}

export function strAt(root: Json | undefined, ...path: (string | number)[]): string | undefined {
  const v = at(root, ...path);
  return typeof v === 'string' ? v : undefined;
}

export function numAt(root: Json | undefined, ...path: (string | number)[]): number | undefined {
  const v = at(root, ...path);
  return typeof v === 'number' ? v : undefined;
}

export function at(root: Json | undefined, ...path: (string | number)[]): Json | undefined {
  let cur: Json | undefined = root;
  for (const step of path) {
    if (typeof step === 'number') {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[step];
    } else {
      if (!isObject(cur)) return undefined;
      cur = cur[step];
    }
  }
  return cur;
}

/** Deep copy (the renderer never aliases objects between resources). */
export function clone<T extends Json>(v: T): T {
  return structuredClone(v);
}
