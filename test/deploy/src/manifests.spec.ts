import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ClusterConfigSchema, formatIssues, type ClusterConfig } from '@hotpath/contracts';
import { parseWorkerShards, shardsServed } from '@hotpath/queue';
import { isAllowedEnv } from './env-allow-list';
import { validateResource } from './kube-models';
import { arrAt, isObject, numAt, objAt, objsAt, strAt, type JsonObject } from './kustomize/json';
import { imageTag, podContainers, podSpec, renderKustomization } from './kustomize/render';
import { scaledKeys } from './queue-keys';
import { repoRoot } from './repo-root';

const ROOT = repoRoot();
const K8S = join(ROOT, 'deploy', 'k8s');

/** Every deployable entry point, its namespace, and what it must contain. */
const TARGETS = [
  { dir: 'overlays/dev', namespace: 'hotpath-dev', autoscaler: 'keda' },
  { dir: 'overlays/prod', namespace: 'hotpath', autoscaler: 'keda' },
  { dir: 'overlays/gpu', namespace: 'hotpath', autoscaler: 'keda' },
  { dir: 'alternatives/prometheus-hpa', namespace: 'hotpath', autoscaler: 'hpa' },
] as const;

/** Secrets created out of band in production (docs/kubernetes.md) and the keys the manifests read. */
const SECRET_KEYS: Readonly<Record<string, readonly string[]>> = {
  'hotpath-redis': ['url', 'address', 'password'],
  'hotpath-api-keys': ['keys'],
};

/** Ports and routes the processes serve (docs/operations.md, docs/api.md#operations). */
const SERVED = {
  api: { portEnv: 'PORT', defaultPort: 3000, live: '/healthz', ready: '/readyz' },
  worker: { portEnv: 'METRICS_PORT', defaultPort: 9464, live: '/healthz', ready: '/readyz' },
} as const;

/** Trigger fields and redis scaler parameters of KEDA 2.x (keda.sh docs, ScaledObject spec / Redis Lists). */
const SCALED_OBJECT_SPEC_FIELDS = new Set([
  'scaleTargetRef',
  'pollingInterval',
  'cooldownPeriod',
  'initialCooldownPeriod',
  'idleReplicaCount',
  'minReplicaCount',
  'maxReplicaCount',
  'fallback',
  'advanced',
  'triggers',
]);
const ADVANCED_FIELDS = new Set([
  'restoreToOriginalReplicaCount',
  'horizontalPodAutoscalerConfig',
  'scalingModifiers',
]);
const SCALING_MODIFIER_FIELDS = new Set(['target', 'activationTarget', 'metricType', 'formula']);
const TRIGGER_FIELDS = new Set([
  'type',
  'name',
  'metadata',
  'authenticationRef',
  'metricType',
  'useCachedMetrics',
]);
const REDIS_TRIGGER_METADATA = new Set([
  'address',
  'addressFromEnv',
  'host',
  'hostFromEnv',
  'port',
  'portFromEnv',
  'usernameFromEnv',
  'passwordFromEnv',
  'listName',
  'listLength',
  'activationListLength',
  'enableTLS',
  'unsafeSsl',
  'databaseIndex',
]);
const REDIS_AUTH_PARAMETERS = new Set([
  'address',
  'host',
  'port',
  'username',
  'password',
  'tls',
  'ca',
  'cert',
  'key',
  'keyPassword',
]);

interface Rendered {
  resources: JsonObject[];
  of(kind: string): JsonObject[];
  get(kind: string, name: string): JsonObject;
}

function render(dir: string): Rendered {
  const resources = renderKustomization(join(K8S, dir));
  const of = (kind: string) => resources.filter((r) => r['kind'] === kind);
  return {
    resources,
    of,
    get(kind, name) {
      const r = of(kind).find((x) => strAt(x, 'metadata', 'name') === name);
      assert.ok(r, `${dir}: no ${kind} ${name}`);
      return r;
    },
  };
}

function name(r: JsonObject): string {
  return strAt(r, 'metadata', 'name') ?? '(unnamed)';
}

function component(d: JsonObject): 'api' | 'worker' | undefined {
  const c = strAt(d, 'spec', 'template', 'metadata', 'labels', 'app.kubernetes.io/component');
  return c === 'api' || c === 'worker' ? c : undefined;
}

function labelsMatch(selector: JsonObject | undefined, labels: JsonObject | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function env(container: JsonObject): Map<string, JsonObject> {
  return new Map(objsAt(container, 'env').map((e) => [strAt(e, 'name') ?? '', e]));
}

function envValue(container: JsonObject, key: string): string | undefined {
  return strAt(env(container).get(key), 'value');
}

/** The cluster config mounted into the pods, from the rendered ConfigMap, validated by the real schema. */
function clusterConfig(r: Rendered): ClusterConfig {
  const cms = r.of('ConfigMap').filter((c) => name(c).startsWith('hotpath-config-'));
  assert.equal(cms.length, 1, 'exactly one hotpath-config ConfigMap (with its content hash)');
  const text = strAt(cms[0], 'data', 'cluster.yaml');
  assert.ok(text, 'hotpath-config has cluster.yaml');
  const parsed = ClusterConfigSchema.safeParse(parse(text));
  assert.ok(parsed.success, parsed.success ? '' : formatIssues(parsed.error));
  return parsed.data;
}

for (const target of TARGETS) {
  describe(`kustomize ${target.dir}`, () => {
    const r = render(target.dir);
    const deployments = r.of('Deployment').filter((d) => component(d) !== undefined);
    const workers = deployments.filter((d) => component(d) === 'worker');
    const config = clusterConfig(r);

    it('renders resources that validate against their Kubernetes / KEDA / Prometheus Operator schemas', () => {
      assert.ok(r.resources.length > 5);
      const ids = new Set<string>();
      for (const res of r.resources) {
        assert.doesNotThrow(() => validateResource(res), `${String(res['kind'])} ${name(res)}`);
        const id = `${String(res['kind'])}/${name(res)}`;
        assert.ok(!ids.has(id), `duplicate ${id}`);
        ids.add(id);
        assert.match(name(res), /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, `${id}: DNS-1123 name`);
      }
    });

    it(`puts every namespaced resource in ${target.namespace}`, () => {
      for (const res of r.resources) {
        if (res['kind'] === 'Namespace') assert.equal(name(res), target.namespace);
        else
          assert.equal(
            strAt(res, 'metadata', 'namespace'),
            target.namespace,
            `${String(res['kind'])} ${name(res)}`,
          );
      }
    });

    it('pins every image to an explicit tag', () => {
      for (const d of r.of('Deployment')) {
        for (const c of podContainers(d)) {
          const image = strAt(c, 'image') ?? '';
          const tag = imageTag(image);
          assert.ok(tag && tag !== 'latest', `${name(d)}: image ${image} needs a tag`);
        }
      }
    });

    it('mounts a cluster config that the ClusterConfigSchema accepts, at the path HOTPATH_CONFIG names', () => {
      const cm = r.of('ConfigMap').find((c) => name(c).startsWith('hotpath-config-'));
      assert.ok(cm);
      for (const d of deployments) {
        const [c] = objsAt(podSpec(d), 'containers');
        assert.ok(c);
        const path = envValue(c, 'HOTPATH_CONFIG');
        assert.ok(path, `${name(d)}: HOTPATH_CONFIG`);
        const volume: JsonObject | undefined = objsAt(podSpec(d), 'volumes').find(
          (v) => strAt(v, 'configMap', 'name') === name(cm),
        );
        assert.ok(volume, `${name(d)}: mounts ${name(cm)}`);
        const mount: JsonObject | undefined = objsAt(c, 'volumeMounts').find(
          (m) => m['name'] === volume['name'],
        );
        assert.equal(path, `${strAt(mount, 'mountPath')}/cluster.yaml`, `${name(d)}: HOTPATH_CONFIG path`);
      }
    });

    it('sets only environment variables the processes accept', () => {
      for (const d of deployments) {
        const comp = component(d);
        assert.ok(comp);
        for (const c of objsAt(podSpec(d), 'containers')) {
          for (const e of objsAt(c, 'env')) {
            const n = strAt(e, 'name') ?? '';
            assert.ok(isAllowedEnv(comp, n), `${name(d)}: ${comp} does not read ${n}`);
          }
          assert.ok(env(c).has('REDIS_URL'), `${name(d)}: REDIS_URL is required`);
        }
      }
    });

    it('references only the documented Secrets and keys (and generated ones contain them)', () => {
      const generated = new Map(r.of('Secret').map((s) => [name(s).replace(/-[0-9a-f]{10}$/, ''), s]));
      const check = (secret: string | undefined, key: string | undefined, where: string) => {
        assert.ok(secret && key, where);
        const base = secret.replace(/-[0-9a-f]{10}$/, '');
        assert.ok(SECRET_KEYS[base]?.includes(key), `${where}: unexpected secret ${secret}/${key}`);
        const gen = generated.get(base);
        if (gen) {
          assert.equal(name(gen), secret, `${where}: reference rewritten to the generated name`);
          assert.ok(objAt(gen, 'data')?.[key] !== undefined, `${where}: generated ${secret} lacks ${key}`);
        }
      };
      for (const d of deployments) {
        for (const c of podContainers(d)) {
          for (const e of objsAt(c, 'env')) {
            const ref = objAt(e, 'valueFrom', 'secretKeyRef');
            if (ref) check(strAt(ref, 'name'), strAt(ref, 'key'), `${name(d)} env ${strAt(e, 'name')}`);
          }
        }
        for (const v of objsAt(podSpec(d), 'volumes')) {
          const s = objAt(v, 'secret');
          if (!s) continue;
          for (const item of objsAt(s, 'items')) check(strAt(s, 'secretName'), strAt(item, 'key'), name(d));
        }
      }
      for (const ta of r.of('TriggerAuthentication')) {
        for (const ref of objsAt(ta, 'spec', 'secretTargetRef')) {
          check(strAt(ref, 'name'), strAt(ref, 'key'), `TriggerAuthentication ${name(ta)}`);
          assert.ok(
            REDIS_AUTH_PARAMETERS.has(strAt(ref, 'parameter') ?? ''),
            `redis auth ${strAt(ref, 'parameter')}`,
          );
        }
      }
      // The generated dev Secret must point the apps (URL) and KEDA (address/password) at the same Redis.
      const redis = generated.get('hotpath-redis');
      if (redis) {
        const decode = (k: string) => Buffer.from(strAt(redis, 'data', k) ?? '', 'base64').toString();
        const url = new URL(decode('url'));
        assert.equal(`${url.hostname}:${url.port || '6379'}`, decode('address'));
        assert.equal(decodeURIComponent(url.password), decode('password'));
      }
    });

    it('reads the API keys from the mounted Secret file', () => {
      for (const d of deployments.filter((x) => component(x) === 'api')) {
        const [c] = objsAt(podSpec(d), 'containers');
        assert.ok(c);
        const file = envValue(c, 'HOTPATH_API_KEYS_FILE');
        assert.ok(file, 'HOTPATH_API_KEYS_FILE');
        const vol = objsAt(podSpec(d), 'volumes').find((v) => objAt(v, 'secret'));
        const mount = objsAt(c, 'volumeMounts').find((m) => m['name'] === vol?.['name']);
        const item = objsAt(vol, 'secret', 'items')[0];
        assert.equal(file, `${strAt(mount, 'mountPath')}/${strAt(item, 'path')}`);
      }
    });

    it('probes the routes and ports the processes serve', () => {
      for (const d of deployments) {
        const comp = component(d);
        assert.ok(comp);
        const served = SERVED[comp];
        const [c] = objsAt(podSpec(d), 'containers');
        assert.ok(c);
        const port = Number(envValue(c, served.portEnv) ?? served.defaultPort);
        const portOf = (p: unknown) =>
          typeof p === 'number'
            ? p
            : numAt(
                objsAt(c, 'ports').find((x) => x['name'] === p),
                'containerPort',
              );
        for (const [probe, path] of [
          ['livenessProbe', served.live],
          ['readinessProbe', served.ready],
          ['startupProbe', served.live],
        ] as const) {
          const get = objAt(c, probe, 'httpGet');
          assert.ok(get, `${name(d)}: ${probe} is an httpGet`);
          assert.equal(strAt(get, 'path'), path, `${name(d)}: ${probe} path`);
          assert.equal(portOf(get['port']), port, `${name(d)}: ${probe} port`);
        }
      }
    });

    it('gives every workload requests, limits, a non-root read-only container and topology spread', () => {
      for (const d of r.of('Deployment')) {
        const spec = podSpec(d);
        for (const c of objsAt(spec, 'containers')) {
          for (const kind of ['requests', 'limits']) {
            for (const res of ['cpu', 'memory']) {
              assert.ok(objAt(c, 'resources', kind)?.[res] !== undefined, `${name(d)}: ${kind}.${res}`);
            }
          }
          assert.equal(objAt(c, 'securityContext')?.['allowPrivilegeEscalation'], false, name(d));
          assert.equal(objAt(c, 'securityContext')?.['readOnlyRootFilesystem'], true, name(d));
        }
        assert.equal(objAt(spec, 'securityContext')?.['runAsNonRoot'], true, name(d));
        if (component(d)) {
          const podLabels = objAt(d, 'spec', 'template', 'metadata', 'labels');
          const spread = objsAt(spec, 'topologySpreadConstraints');
          assert.deepEqual(spread.map((s) => strAt(s, 'topologyKey')).sort(), [
            'kubernetes.io/hostname',
            'topology.kubernetes.io/zone',
          ]);
          for (const s of spread) {
            assert.ok(labelsMatch(objAt(s, 'labelSelector', 'matchLabels'), podLabels), `${name(d)}: spread`);
          }
          assert.ok(
            labelsMatch(objAt(d, 'spec', 'selector', 'matchLabels'), podLabels),
            `${name(d)}: selector`,
          );
        }
      }
    });

    it('gives every Hotpath Deployment exactly one PodDisruptionBudget', () => {
      const pdbs = r.of('PodDisruptionBudget');
      for (const d of deployments) {
        const podLabels = objAt(d, 'spec', 'template', 'metadata', 'labels');
        const mine = pdbs.filter((p) => labelsMatch(objAt(p, 'spec', 'selector', 'matchLabels'), podLabels));
        assert.equal(mine.length, 1, `${name(d)}: PDBs`);
      }
      for (const p of pdbs) {
        const covered = r
          .of('Deployment')
          .filter((d) =>
            labelsMatch(
              objAt(p, 'spec', 'selector', 'matchLabels'),
              objAt(d, 'spec', 'template', 'metadata', 'labels'),
            ),
          );
        assert.equal(covered.length, 1, `PDB ${name(p)} selects one Deployment`);
      }
    });

    it('routes Services and ServiceMonitors to named container ports', () => {
      const services = r.of('Service');
      for (const s of services) {
        const pods = r
          .of('Deployment')
          .filter((d) =>
            labelsMatch(objAt(s, 'spec', 'selector'), objAt(d, 'spec', 'template', 'metadata', 'labels')),
          );
        assert.ok(pods.length > 0, `Service ${name(s)} selects pods`);
        for (const p of objsAt(s, 'spec', 'ports')) {
          for (const d of pods) {
            const names = podContainers(d).flatMap((c) => objsAt(c, 'ports').map((x) => x['name']));
            assert.ok(
              names.includes(p['targetPort'] ?? null),
              `Service ${name(s)} -> ${name(d)} ${String(p['targetPort'])}`,
            );
          }
        }
      }
      for (const sm of r.of('ServiceMonitor')) {
        const selected = services.filter((s) =>
          labelsMatch(objAt(sm, 'spec', 'selector', 'matchLabels'), objAt(s, 'metadata', 'labels')),
        );
        assert.ok(selected.length > 0, `ServiceMonitor ${name(sm)} selects a Service`);
        for (const ep of objsAt(sm, 'spec', 'endpoints')) {
          assert.equal(strAt(ep, 'path'), '/metrics');
          assert.ok(
            selected.some((s) => objsAt(s, 'spec', 'ports').some((p) => p['name'] === ep['port'])),
            `ServiceMonitor ${name(sm)} port ${String(ep['port'])}`,
          );
        }
      }
    });

    it('lets workers drain: terminationGracePeriodSeconds exceeds queue.shutdown_grace_ms plus margin', () => {
      for (const d of workers) {
        const grace = numAt(podSpec(d), 'terminationGracePeriodSeconds');
        assert.ok(grace !== undefined, name(d));
        assert.ok(grace * 1000 >= config.queue.shutdown_grace_ms + 10_000, `${name(d)}: ${grace}s`);
      }
    });

    it('serves every model shard with exactly one worker pool whose WORKER_SHARDS parses', () => {
      const served = new Map<string, string>();
      for (const d of workers) {
        const [c] = objsAt(podSpec(d), 'containers');
        assert.ok(c);
        const selection = parseWorkerShards(envValue(c, 'WORKER_SHARDS'));
        if (selection !== 'all') {
          for (const model of selection.keys()) {
            assert.ok(
              config.models.some((m) => m.name === model),
              `${name(d)}: unknown model ${model}`,
            );
          }
        }
        for (const m of config.models) {
          for (const s of shardsServed(selection, m.name, m.shards)) {
            const key = `${m.name}:${s}`;
            assert.ok(!served.has(key), `${key} served by ${served.get(key)} and ${name(d)}`);
            served.set(key, name(d));
          }
        }
      }
      for (const m of config.models) {
        for (let s = 0; s < m.shards; s++)
          assert.ok(served.has(`${m.name}:${s}`), `${m.name}:${s} has no pool`);
      }
    });

    it('autoscales every Deployment exactly once and never pins replicas under an autoscaler', () => {
      const scalers = [
        ...r.of('ScaledObject').map((so) => objAt(so, 'spec', 'scaleTargetRef')),
        ...r.of('HorizontalPodAutoscaler').map((h) => objAt(h, 'spec', 'scaleTargetRef')),
      ];
      for (const d of deployments) {
        const mine = scalers.filter((t) => strAt(t, 'name') === name(d));
        assert.equal(mine.length, 1, `${name(d)}: autoscalers`);
        assert.equal(objAt(d, 'spec')?.['replicas'], undefined, `${name(d)}: no spec.replicas`);
      }
      for (const t of scalers) {
        assert.ok(
          r.of('Deployment').some((d) => name(d) === strAt(t, 'name')),
          `target ${strAt(t, 'name')}`,
        );
      }
      const apiHpa = r.get('HorizontalPodAutoscaler', 'hotpath-api');
      assert.ok(objsAt(apiHpa, 'spec', 'metrics').some((m) => strAt(m, 'resource', 'name') === 'cpu'));
      if (target.autoscaler === 'hpa') assert.equal(r.of('ScaledObject').length, 0);
      else assert.equal(r.of('ScaledObject').length, workers.length);
    });

    if (target.autoscaler === 'keda') {
      it('scales each worker pool on exactly the BullMQ keys of the shard queues it serves', () => {
        for (const so of r.of('ScaledObject')) {
          const spec = objAt(so, 'spec');
          assert.ok(spec);
          for (const k of Object.keys(spec)) assert.ok(SCALED_OBJECT_SPEC_FIELDS.has(k), `spec.${k}`);
          for (const k of Object.keys(objAt(spec, 'advanced') ?? {}))
            assert.ok(ADVANCED_FIELDS.has(k), `advanced.${k}`);
          const deployment = r.get('Deployment', strAt(spec, 'scaleTargetRef', 'name') ?? '');
          const [c] = objsAt(podSpec(deployment), 'containers');
          assert.ok(c);
          const selection = parseWorkerShards(envValue(c, 'WORKER_SHARDS'));
          const expected = scaledKeys(
            config.models.flatMap((m) =>
              shardsServed(selection, m.name, m.shards).map((shard) => ({ model: m.name, shard })),
            ),
          );

          const triggers = objsAt(spec, 'triggers');
          for (const t of triggers) {
            for (const k of Object.keys(t)) assert.ok(TRIGGER_FIELDS.has(k), `trigger.${k}`);
            assert.equal(strAt(t, 'type'), 'redis');
            for (const k of Object.keys(objAt(t, 'metadata') ?? {}))
              assert.ok(REDIS_TRIGGER_METADATA.has(k), `metadata.${k}`);
            assert.ok(Number(strAt(t, 'metadata', 'listLength')) > 0);
            const auth = strAt(t, 'authenticationRef', 'name');
            assert.ok(
              r.of('TriggerAuthentication').some((a) => name(a) === auth),
              `auth ${auth}`,
            );
          }
          assert.deepEqual(
            triggers.map((t) => [strAt(t, 'name'), strAt(t, 'metadata', 'listName')]).sort(),
            expected.map((k) => [k.triggerName, k.key]).sort(),
            `${name(so)}: trigger keys = BullMQ keys of WORKER_SHARDS`,
          );

          // The composite metric is the plain sum of every trigger: the pool's work in the queues.
          const mod = objAt(spec, 'advanced', 'scalingModifiers');
          assert.ok(mod, `${name(so)}: scalingModifiers`);
          for (const k of Object.keys(mod))
            assert.ok(SCALING_MODIFIER_FIELDS.has(k), `scalingModifiers.${k}`);
          const terms = (strAt(mod, 'formula') ?? '').split('+').map((s) => s.trim());
          assert.deepEqual(
            [...terms].sort(),
            expected.map((k) => k.triggerName).sort(),
            `${name(so)}: formula`,
          );
          assert.ok(Number(strAt(mod, 'target')) > 0, 'target');
          assert.ok(Number(strAt(mod, 'activationTarget')) >= 0, 'activationTarget');
          assert.equal(strAt(mod, 'metricType'), 'AverageValue');

          const min = numAt(spec, 'minReplicaCount') ?? 0;
          const max = numAt(spec, 'maxReplicaCount') ?? 100;
          assert.ok(min <= max && max >= 1);
          assert.ok((numAt(spec, 'cooldownPeriod') ?? 0) >= 60, 'cooldownPeriod');
          // Slow scale-down: a stabilization window and at most one pod per period.
          const down = objAt(spec, 'advanced', 'horizontalPodAutoscalerConfig', 'behavior', 'scaleDown');
          assert.ok((numAt(down, 'stabilizationWindowSeconds') ?? 0) >= 120, 'scaleDown window');
          const policies = objsAt(down, 'policies');
          assert.ok(policies.length > 0);
          for (const p of policies) {
            assert.equal(strAt(p, 'type'), 'Pods');
            assert.equal(numAt(p, 'value'), 1);
            const grace = numAt(podSpec(deployment), 'terminationGracePeriodSeconds') ?? 30;
            assert.ok((numAt(p, 'periodSeconds') ?? 0) >= grace, 'one draining pod at a time');
          }
        }
      });
    }

    if (target.dir === 'overlays/dev') {
      it('offers scale-to-zero for the worker pool', () => {
        const so = r.get('ScaledObject', 'hotpath-worker');
        assert.equal(numAt(so, 'spec', 'minReplicaCount'), 0);
        assert.equal(strAt(so, 'spec', 'advanced', 'scalingModifiers', 'activationTarget'), '0');
      });
    }

    if (target.dir === 'overlays/prod') {
      it('splits workers into per-model pools', () => {
        assert.ok(workers.length >= 2);
        const pools = workers.map((d) =>
          strAt(d, 'spec', 'template', 'metadata', 'labels', 'hotpath.dev/pool'),
        );
        assert.equal(new Set(pools).size, workers.length);
      });
    }

    if (target.dir === 'overlays/gpu') {
      it('runs GPU workers on GPU nodes with the CUDA execution provider', () => {
        for (const d of workers) {
          const spec = podSpec(d);
          const [c] = objsAt(spec, 'containers');
          assert.equal(String(objAt(c, 'resources', 'limits')?.['nvidia.com/gpu']), '1');
          assert.ok(Object.keys(objAt(spec, 'nodeSelector') ?? {}).length > 0, 'nodeSelector');
          assert.ok(
            objsAt(spec, 'tolerations').some((t) => t['key'] === 'nvidia.com/gpu'),
            'toleration',
          );
          assert.match(strAt(c, 'image') ?? '', /worker-gpu:/);
        }
        for (const m of config.models) assert.equal(m.execution.providers[0], 'cuda', m.name);
      });
    }

    if (target.dir === 'alternatives/prometheus-hpa') {
      it('scales on metrics that the prometheus-adapter rules define', () => {
        const values = parse(
          readFileSync(join(K8S, 'alternatives/prometheus-hpa/prometheus-adapter-values.yaml'), 'utf8'),
        ) as unknown;
        assert.ok(isObject(values));
        const defined = (kind: string) =>
          new Set(objsAt(values, 'rules', kind).map((rule) => strAt(rule, 'name', 'as')));
        for (const h of r.of('HorizontalPodAutoscaler')) {
          for (const m of objsAt(h, 'spec', 'metrics')) {
            if (m['type'] === 'External')
              assert.ok(defined('external').has(strAt(m, 'external', 'metric', 'name')));
            if (m['type'] === 'Pods') assert.ok(defined('custom').has(strAt(m, 'pods', 'metric', 'name')));
          }
        }
        for (const d of workers) {
          const h = r
            .of('HorizontalPodAutoscaler')
            .find((x) => strAt(x, 'spec', 'scaleTargetRef', 'name') === name(d));
          assert.ok(h);
          const [c] = objsAt(podSpec(d), 'containers');
          assert.ok(c);
          const selection = parseWorkerShards(envValue(c, 'WORKER_SHARDS'));
          const models = config.models.filter((m) => shardsServed(selection, m.name, m.shards).length > 0);
          const selected = objsAt(h, 'spec', 'metrics').map((m) =>
            strAt(m, 'external', 'metric', 'selector', 'matchLabels', 'model'),
          );
          assert.deepEqual(
            selected.sort(),
            models.map((m) => m.name).sort(),
            `${name(d)}: backlog of its models`,
          );
          assert.equal(arrAt(h, 'spec', 'metrics').length, models.length);
        }
      });
    }
  });
}
