import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { objsAt, strAt } from './json';
import { imageName, imageTag, renderKustomization } from './render';
import { applyPatch } from './strategic-merge';

describe('kustomize-equivalent renderer', () => {
  const root = mkdtempSync(join(tmpdir(), 'hotpath-kustomize-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  function write(rel: string, text: string): void {
    const path = join(root, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
  }

  write(
    'base/kustomization.yaml',
    'resources: [app.yaml]\nconfigMapGenerator:\n  - name: cfg\n    files: [c.yaml]\n',
  );
  write('base/c.yaml', 'a: 1\n');
  write(
    'base/app.yaml',
    `apiVersion: apps/v1
kind: Deployment
metadata: { name: app }
spec:
  selector: { matchLabels: { app: x } }
  template:
    metadata: { labels: { app: x } }
    spec:
      containers:
        - name: c
          image: repo/app
          env: [{ name: A, value: '1' }, { name: B, value: '2' }]
      volumes: [{ name: cfg, configMap: { name: cfg } }]
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: { name: app }
spec: { scaleTargetRef: { name: app }, triggers: [{ type: redis, metadata: { listName: a } }] }
`,
  );
  write(
    'overlay/kustomization.yaml',
    `namespace: ns
resources: [../base]
images: [{ name: repo/app, newTag: '1.2.3' }]
configMapGenerator: [{ name: cfg, behavior: replace, files: [c.yaml] }]
patches: [{ path: p.yaml }]
`,
  );
  write('overlay/c.yaml', 'a: 2\n');
  write(
    'overlay/p.yaml',
    `apiVersion: apps/v1
kind: Deployment
metadata: { name: app }
spec:
  template:
    spec:
      containers: [{ name: c, env: [{ name: B, value: '3' }, { name: C, value: '4' }] }]
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: { name: app }
spec: { triggers: [{ type: redis, metadata: { listName: b } }] }
`,
  );

  it('merges containers and env by name, replaces CRD lists, sets namespace and image tags', () => {
    const out = renderKustomization(join(root, 'overlay'));
    const dep = out.find((r) => r['kind'] === 'Deployment');
    assert.ok(dep);
    const [c] = objsAt(dep, 'spec', 'template', 'spec', 'containers');
    assert.deepEqual(
      objsAt(c, 'env').map((e) => [e['name'], e['value']]),
      [
        ['A', '1'],
        ['B', '3'],
        ['C', '4'],
      ],
    );
    assert.equal(strAt(c, 'image'), 'repo/app:1.2.3');
    assert.equal(strAt(dep, 'metadata', 'namespace'), 'ns');
    const so = out.find((r) => r['kind'] === 'ScaledObject');
    assert.deepEqual(
      objsAt(so, 'spec', 'triggers').map((t) => strAt(t, 'metadata', 'listName')),
      ['b'],
    );
  });

  it('hash-suffixes generated ConfigMaps, replaces their data and rewrites references', () => {
    const base = renderKustomization(join(root, 'base'));
    const overlay = renderKustomization(join(root, 'overlay'));
    const name = (rs: typeof base) =>
      strAt(
        rs.find((r) => r['kind'] === 'ConfigMap'),
        'metadata',
        'name',
      ) ?? '';
    assert.match(name(base), /^cfg-[0-9a-f]{10}$/);
    assert.notEqual(name(base), name(overlay), 'new content, new name');
    const cm = overlay.find((r) => r['kind'] === 'ConfigMap');
    assert.equal(strAt(cm, 'data', 'c.yaml'), 'a: 2\n');
    const dep = overlay.find((r) => r['kind'] === 'Deployment');
    assert.equal(
      strAt(objsAt(dep, 'spec', 'template', 'spec', 'volumes')[0], 'configMap', 'name'),
      name(overlay),
    );
  });

  it('rejects kustomization fields it does not implement', () => {
    write('bad/kustomization.yaml', 'resources: []\nreplicas: [{ name: app, count: 2 }]\n');
    assert.throws(() => renderKustomization(join(root, 'bad')), /unsupported kustomization field "replicas"/);
  });

  it('deletes a resource with $patch: delete and fails on patches without a target', () => {
    write('del/kustomization.yaml', 'resources: [../base]\npatches: [{ path: d.yaml }]\n');
    write(
      'del/d.yaml',
      '$patch: delete\napiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: { name: app }\n',
    );
    assert.equal(
      renderKustomization(join(root, 'del')).filter((r) => r['kind'] === 'ScaledObject').length,
      0,
    );
    write('miss/kustomization.yaml', 'resources: [../base]\npatches: [{ path: d.yaml }]\n');
    write('miss/d.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: nope }\n');
    assert.throws(() => renderKustomization(join(root, 'miss')), /no Deployment "nope" to patch/);
  });

  it('deletes keys with null in strategic merge', () => {
    const out = applyPatch(
      { apiVersion: 'apps/v1', kind: 'Deployment', spec: { replicas: 2, paused: false } },
      { spec: { replicas: null } },
    );
    assert.deepEqual(out['spec'], { paused: false });
  });

  it('parses image references', () => {
    assert.equal(imageName('registry:5000/a/b:1.0'), 'registry:5000/a/b');
    assert.equal(imageTag('registry:5000/a/b:1.0'), '1.0');
    assert.equal(imageTag('registry:5000/a/b'), undefined);
    assert.equal(imageName('a/b@sha256:abc'), 'a/b');
  });
});
