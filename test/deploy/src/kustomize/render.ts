import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { arrAt, clone, isObject, objAt, objsAt, strAt, type JsonObject } from './json';
import { applyPatch } from './strategic-merge';

/**
 * A small `kustomize build` for the Hotpath manifests, so the tests validate exactly what
 * `kubectl apply -k` would send. It supports the fields the manifests use and rejects any other
 * field, so a kustomization can never rely on something this renderer silently ignores:
 * `resources` (files and folders), `components`, `patches` (strategic merge / JSON merge patch by
 * kind and name, `$patch: delete`), `namespace`, `labels` (without selectors), `images`,
 * `configMapGenerator` / `secretGenerator` (files, literals, behavior create|replace|merge; names get a
 * content-hash suffix and references are rewritten, as kustomize does).
 */
export function renderKustomization(dir: string): JsonObject[] {
  const acc = build(resolve(dir), 'Kustomization');
  return finalizeGenerated(acc);
}

const KUSTOMIZATION_FIELDS = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'resources',
  'components',
  'patches',
  'images',
  'labels',
  'configMapGenerator',
  'secretGenerator',
]);

/** Internal marker on generated ConfigMaps/Secrets until the hash suffix is applied. */
const GENERATED = 'hotpath.test/generated-name';

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'ClusterTriggerAuthentication',
  'PriorityClass',
  'StorageClass',
  'RuntimeClass',
]);

function build(dir: string, expectKind: 'Kustomization' | 'Component', acc: JsonObject[] = []): JsonObject[] {
  const k = readKustomization(dir);
  const kind = strAt(k, 'kind') ?? 'Kustomization';
  if (kind !== expectKind) throw new Error(`${dir}: expected kind ${expectKind}, found ${kind}`);
  for (const field of Object.keys(k)) {
    if (!KUSTOMIZATION_FIELDS.has(field))
      throw new Error(`${dir}: unsupported kustomization field "${field}"`);
  }

  for (const entry of stringList(k, 'resources', dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) acc.push(...build(path, 'Kustomization'));
    else acc.push(...readResources(path));
  }
  for (const entry of stringList(k, 'components', dir)) build(join(dir, entry), 'Component', acc);

  generate(dir, k, 'configMapGenerator', acc);
  generate(dir, k, 'secretGenerator', acc);

  for (const p of objsAt(k, 'patches')) {
    for (const field of Object.keys(p)) {
      if (field !== 'path') throw new Error(`${dir}: only "path" patches are supported (found "${field}")`);
    }
    const file = strAt(p, 'path');
    if (!file) throw new Error(`${dir}: patch without path`);
    for (const patch of readResources(join(dir, file))) applyOne(acc, patch, `${dir}/${file}`);
  }

  const namespace = strAt(k, 'namespace');
  if (namespace) {
    for (const r of acc) {
      if (CLUSTER_SCOPED.has(String(r['kind']))) continue;
      metadata(r)['namespace'] = namespace;
    }
  }
  for (const l of objsAt(k, 'labels')) applyLabels(acc, l, dir);
  for (const img of objsAt(k, 'images')) applyImage(acc, img, dir);
  return acc;
}

function readKustomization(dir: string): JsonObject {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']
    .map((f) => join(dir, f))
    .find((f) => existsSync(f));
  if (!file) throw new Error(`${dir}: no kustomization.yaml`);
  const [doc, ...rest] = readResources(file);
  if (!doc || rest.length > 0) throw new Error(`${file}: expected exactly one document`);
  return doc;
}

/** Parses every YAML document of a file; empty documents (comments only) are skipped. */
export function readResources(file: string): JsonObject[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { uniqueKeys: true });
  const out: JsonObject[] = [];
  for (const d of docs) {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    const v: unknown = d.toJS();
    if (v === null || v === undefined) continue;
    if (!isObject(v)) throw new Error(`${file}: a document is not a mapping`);
    out.push(v);
  }
  return out;
}

function stringList(k: JsonObject, field: string, dir: string): string[] {
  return arrAt(k, field).map((v) => {
    if (typeof v !== 'string') throw new Error(`${dir}: ${field} entries must be strings`);
    return v;
  });
}

function metadata(r: JsonObject): JsonObject {
  const m = r['metadata'];
  if (isObject(m)) return m;
  const created: JsonObject = {};
  r['metadata'] = created;
  return created;
}

function sameTarget(r: JsonObject, p: JsonObject): boolean {
  return (
    r['kind'] === p['kind'] &&
    r['apiVersion'] === p['apiVersion'] &&
    strAt(r, 'metadata', 'name') === strAt(p, 'metadata', 'name')
  );
}

function applyOne(acc: JsonObject[], patch: JsonObject, where: string): void {
  const i = acc.findIndex((r) => sameTarget(r, patch));
  const target = acc[i];
  if (i < 0 || !target) {
    throw new Error(`${where}: no ${String(patch['kind'])} "${strAt(patch, 'metadata', 'name')}" to patch`);
  }
  if (patch['$patch'] === 'delete') {
    acc.splice(i, 1);
    return;
  }
  const { metadata: pm, ...rest } = patch;
  const merged = applyPatch(target, rest);
  // metadata: only labels and annotations may be patched (names stay what the resource says).
  if (isObject(pm)) {
    for (const field of ['labels', 'annotations']) {
      const add = objAt(pm, field);
      if (add) metadata(merged)[field] = { ...(objAt(merged, 'metadata', field) ?? {}), ...clone(add) };
    }
  }
  acc[i] = merged;
}

function applyLabels(acc: JsonObject[], l: JsonObject, dir: string): void {
  for (const field of Object.keys(l)) {
    if (field !== 'pairs' && field !== 'includeSelectors')
      throw new Error(`${dir}: labels.${field} unsupported`);
  }
  if (l['includeSelectors'] !== false) throw new Error(`${dir}: labels must set includeSelectors: false`);
  const pairs = objAt(l, 'pairs') ?? {};
  for (const r of acc) {
    const m = metadata(r);
    m['labels'] = { ...(objAt(m, 'labels') ?? {}), ...clone(pairs) };
  }
}

function applyImage(acc: JsonObject[], img: JsonObject, dir: string): void {
  const name = strAt(img, 'name');
  if (!name) throw new Error(`${dir}: images entry without name`);
  for (const field of Object.keys(img)) {
    if (!['name', 'newName', 'newTag', 'digest'].includes(field)) throw new Error(`${dir}: images.${field}`);
  }
  for (const r of acc) {
    for (const c of podContainers(r)) {
      const image = strAt(c, 'image');
      if (!image || imageName(image) !== name) continue;
      const repo = strAt(img, 'newName') ?? name;
      const digest = strAt(img, 'digest');
      const tag = strAt(img, 'newTag') ?? imageTag(image);
      c['image'] = digest ? `${repo}@${digest}` : tag ? `${repo}:${tag}` : repo;
    }
  }
}

/** The repository part of an image reference (no tag, no digest). */
export function imageName(image: string): string {
  const noDigest = image.split('@')[0] ?? image;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/** The tag of an image reference, if any. */
export function imageTag(image: string): string | undefined {
  const noDigest = image.split('@')[0] ?? image;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(colon + 1) : undefined;
}

/** The pod spec of a workload (Deployment, StatefulSet, Job, ...), if it has one. */
export function podSpec(r: JsonObject): JsonObject | undefined {
  return objAt(r, 'spec', 'template', 'spec');
}

/** Containers and init containers of a workload's pod template. */
export function podContainers(r: JsonObject): JsonObject[] {
  const spec = podSpec(r);
  return spec ? [...objsAt(spec, 'containers'), ...objsAt(spec, 'initContainers')] : [];
}

function generate(
  dir: string,
  k: JsonObject,
  field: 'configMapGenerator' | 'secretGenerator',
  acc: JsonObject[],
) {
  const kind = field === 'configMapGenerator' ? 'ConfigMap' : 'Secret';
  for (const g of objsAt(k, field)) {
    for (const f of Object.keys(g)) {
      if (!['name', 'files', 'literals', 'behavior', 'type'].includes(f))
        throw new Error(`${dir}: ${field}.${f}`);
    }
    const name = strAt(g, 'name');
    if (!name) throw new Error(`${dir}: ${field} entry without name`);
    const data: JsonObject = {};
    for (const entry of arrAt(g, 'files')) {
      if (typeof entry !== 'string') throw new Error(`${dir}: ${field} files must be strings`);
      const eq = entry.indexOf('=');
      const key = eq > 0 ? entry.slice(0, eq) : basename(entry);
      const content = readFileSync(join(dir, eq > 0 ? entry.slice(eq + 1) : entry), 'utf8');
      data[key] = kind === 'Secret' ? Buffer.from(content).toString('base64') : content;
    }
    for (const entry of arrAt(g, 'literals')) {
      if (typeof entry !== 'string' || !entry.includes('='))
        throw new Error(`${dir}: bad literal ${String(entry)}`);
      const eq = entry.indexOf('=');
      const value = entry.slice(eq + 1);
      data[entry.slice(0, eq)] = kind === 'Secret' ? Buffer.from(value).toString('base64') : value;
    }
    const behavior = strAt(g, 'behavior') ?? 'create';
    const existing = acc.findIndex((r) => r['kind'] === kind && objAt(r, 'metadata')?.[GENERATED] === name);
    if (behavior === 'create') {
      if (existing >= 0) throw new Error(`${dir}: ${kind} ${name} already generated (use behavior: replace)`);
      const r: JsonObject = { apiVersion: 'v1', kind, metadata: { name, [GENERATED]: name }, data };
      const type = strAt(g, 'type');
      if (kind === 'Secret') r['type'] = type ?? 'Opaque';
      acc.push(r);
    } else if (behavior === 'replace' || behavior === 'merge') {
      const target = acc[existing];
      if (!target) throw new Error(`${dir}: no generated ${kind} ${name} to ${behavior}`);
      target['data'] = behavior === 'replace' ? data : { ...(objAt(target, 'data') ?? {}), ...data };
    } else {
      throw new Error(`${dir}: unknown generator behavior ${behavior}`);
    }
  }
}

/** Adds the content-hash suffix to generated names and rewrites every reference to them. */
function finalizeGenerated(acc: JsonObject[]): JsonObject[] {
  const renames = new Map<string, string>();
  for (const r of acc) {
    const m = objAt(r, 'metadata');
    const original = m?.[GENERATED];
    if (!m || typeof original !== 'string') continue;
    delete m[GENERATED];
    const hash = createHash('sha256')
      .update(JSON.stringify({ kind: r['kind'], data: r['data'] ?? null }))
      .digest('hex')
      .slice(0, 10);
    m['name'] = `${original}-${hash}`;
    renames.set(`${String(r['kind'])}/${original}`, m['name']);
  }
  const rename = (kind: 'ConfigMap' | 'Secret', holder: JsonObject | undefined, field: string) => {
    const current = holder?.[field];
    if (!holder || typeof current !== 'string') return;
    const next = renames.get(`${kind}/${current}`);
    if (next) holder[field] = next;
  };
  for (const r of acc) {
    const spec = podSpec(r);
    if (spec) {
      for (const v of objsAt(spec, 'volumes')) {
        rename('ConfigMap', objAt(v, 'configMap'), 'name');
        rename('Secret', objAt(v, 'secret'), 'secretName');
        for (const s of objsAt(v, 'projected', 'sources')) {
          rename('ConfigMap', objAt(s, 'configMap'), 'name');
          rename('Secret', objAt(s, 'secret'), 'name');
        }
      }
      for (const c of podContainers(r)) {
        for (const e of objsAt(c, 'env')) {
          rename('ConfigMap', objAt(e, 'valueFrom', 'configMapKeyRef'), 'name');
          rename('Secret', objAt(e, 'valueFrom', 'secretKeyRef'), 'name');
        }
        for (const e of objsAt(c, 'envFrom')) {
          rename('ConfigMap', objAt(e, 'configMapRef'), 'name');
          rename('Secret', objAt(e, 'secretRef'), 'name');
        }
      }
    }
    if (r['kind'] === 'TriggerAuthentication') {
      for (const ref of objsAt(r, 'spec', 'secretTargetRef')) rename('Secret', ref, 'name');
    }
  }
  return acc;
}
