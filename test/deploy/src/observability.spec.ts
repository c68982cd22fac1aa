import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { createMetrics, HOTPATH_METRIC_NAMES } from '@hotpath/telemetry';
import { repoRoot } from './repo-root';

const dir = join(repoRoot(), 'deploy', 'observability');
const readYaml = <T>(rel: string): T => parse(readFileSync(join(dir, rel), 'utf8')) as T;

/** Every series name the processes export: Hotpath's metrics (with histogram suffixes) and prom-client defaults. */
async function exportedSeries(): Promise<Set<string>> {
  const metrics = createMetrics('hotpath-test');
  const names = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
    if (String(m.type) === 'summary') for (const s of ['_sum', '_count']) names.add(m.name + s);
  }
  return names;
}

/** Metric names a PromQL expression reads (identifiers followed by `{`, `[`, `)` or whitespace, that look like metrics). */
function metricsIn(expr: string): string[] {
  const ids = expr.match(/\b(hotpath_[a-z0-9_]+|nodejs_[a-z0-9_]+|process_[a-z0-9_]+)\b/g) ?? [];
  return [...new Set(ids)];
}

interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
}
interface AlertFile {
  groups: { rules: { alert: string; expr: string; annotations: Record<string, string> }[] }[];
}
interface Compose {
  services: Record<
    string,
    { environment?: Record<string, string>; volumes?: string[]; image?: string; build?: unknown }
  >;
}

describe('deploy/observability', () => {
  it('every dashboard panel queries only metrics the processes export', async () => {
    const exported = await exportedSeries();
    const dash = JSON.parse(
      readFileSync(join(dir, 'grafana/dashboards/hotpath-overview.json'), 'utf8'),
    ) as Dashboard;
    assert.ok(dash.panels.length >= 12);
    const used = new Set<string>();
    for (const p of dash.panels) {
      assert.ok(p.targets.length > 0, `panel "${p.title}" has a query`);
      for (const t of p.targets) {
        const names = metricsIn(t.expr);
        assert.ok(names.length > 0, `panel "${p.title}" queries a metric`);
        for (const n of names) {
          assert.ok(exported.has(n), `panel "${p.title}" queries ${n}, which no process exports`);
          used.add(n.replace(/_(bucket|sum|count)$/, ''));
        }
      }
    }
    for (const name of HOTPATH_METRIC_NAMES) assert.ok(used.has(name), `the dashboard shows ${name}`);
  });

  it('alert rules cover backlog age, error ratio and p99 latency on exported metrics', async () => {
    const exported = await exportedSeries();
    const rules = readYaml<AlertFile>('prometheus/alerts.yml').groups.flatMap((g) => g.rules);
    for (const r of rules) {
      for (const n of metricsIn(r.expr))
        assert.ok(exported.has(n), `alert ${r.alert} reads ${n}, which is not exported`);
      assert.ok(r.annotations['summary'], `alert ${r.alert} has a summary`);
    }
    const exprs = rules.map((r) => r.expr).join('\n');
    assert.match(exprs, /hotpath_queue_wait_seconds/, 'backlog age');
    assert.match(exprs, /outcome=~"failed/, 'error ratio');
    assert.match(exprs, /histogram_quantile\(0\.99/, 'p99 latency');
  });

  it('Prometheus scrapes the ports the processes serve metrics on', () => {
    const prom = readYaml<{
      scrape_configs: { job_name: string; metrics_path: string; static_configs: { targets: string[] }[] }[];
    }>('prometheus/prometheus.yml');
    const compose = readYaml<Compose>('compose.yaml');
    const targets = Object.fromEntries(
      prom.scrape_configs.map((s) => [s.job_name, s.static_configs[0]?.targets[0]]),
    );
    assert.equal(targets['hotpath-api'], `api:${compose.services['api']?.environment?.['PORT']}`);
    assert.equal(
      targets['hotpath-worker'],
      `worker:${compose.services['worker']?.environment?.['METRICS_PORT']}`,
    );
    for (const s of prom.scrape_configs) assert.equal(s.metrics_path, '/metrics');
  });

  it('every compose service has what it needs', () => {
    const { services } = readYaml<Compose>('compose.yaml');
    for (const name of ['redis', 'api', 'worker', 'jaeger', 'prometheus', 'grafana'])
      assert.ok(services[name], name);
    for (const app of ['api', 'worker']) {
      const env = services[app]?.environment ?? {};
      assert.match(env['REDIS_URL'] ?? '', /^redis:\/\/redis:6379$/, `${app} reaches the compose Redis`);
      assert.equal(
        env['OTEL_EXPORTER_OTLP_ENDPOINT'],
        'http://jaeger:4318',
        `${app} exports traces to Jaeger`,
      );
      assert.match(env['OTEL_EXPORTER_OTLP_PROTOCOL'] ?? '', /^http\/(protobuf|json)$/);
      assert.equal(env['HOTPATH_CONFIG'], '/etc/hotpath/cluster.yaml');
      const mount = (services[app]?.volumes ?? []).find((v) => v.endsWith(':/etc/hotpath/cluster.yaml:ro'));
      assert.ok(mount, `${app} mounts the cluster config`);
      assert.ok(existsSync(join(dir, mount.split(':')[0] ?? '')), `${mount} exists`);
    }
    for (const [name, svc] of Object.entries(services)) {
      if (svc.image) assert.match(svc.image, /:v?[0-9][\w.-]*$/, `${name} pins an image version`);
      for (const v of svc.volumes ?? []) {
        const src = v.split(':')[0] ?? '';
        if (src.startsWith('./'))
          assert.ok(existsSync(join(dir, src)), `${name} mounts ${src}, which exists`);
      }
    }
    const ds = readYaml<{ datasources: { type: string; url: string }[] }>(
      'grafana/provisioning/datasources/datasources.yml',
    );
    assert.deepEqual(ds.datasources.map((d) => d.type).sort(), ['jaeger', 'prometheus']);
  });
});
