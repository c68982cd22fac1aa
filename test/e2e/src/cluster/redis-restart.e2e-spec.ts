import assert from 'node:assert/strict';
import {
  E2eCluster,
  asError,
  asJob,
  generateJob,
  sleep,
  waitFor,
  type HttpResponse,
} from '@hotpath/e2e-harness';

// Redis restarted under load: while it is down the API answers 503 redis_unavailable with
// Retry-After (and /readyz 503); once it is back on the same port and folder (AOF, fsync always)
// the API and worker recover by themselves and every job that got a 202 completes.

const cluster = new E2eCluster('redis-restart');
const model = cluster.modelName('rr');

cluster.hooks({
  models: [cluster.simModel(model, { shards: 2, concurrency: 8, sim: { base_ms: 30 } })],
  queue: { lock_duration_ms: 3000, stalled_interval_ms: 1000 },
});

interface Outcome {
  at: number;
  status: number | 'network-error';
  id?: string;
  code?: string;
  retryAfter?: string | null;
  detail: string;
}

/** Submits one job every `intervalMs` until stopped, recording every outcome. */
class Submitter {
  readonly outcomes: Outcome[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;
  private n = 0;

  start(intervalMs: number): void {
    this.loop = (async () => {
      while (!this.stopped) {
        const at = Date.now();
        void this.one(at);
        await sleep(intervalMs);
      }
    })();
  }

  private inflight = new Set<Promise<void>>();

  private one(at: number): Promise<void> {
    const p = (async () => {
      let res: HttpResponse;
      try {
        res = await cluster.client.submit(generateJob(model, { prompt: `load ${this.n++}` }), {
          timeoutMs: 8000,
        });
      } catch (err) {
        this.outcomes.push({ at, status: 'network-error', detail: (err as Error).message });
        return;
      }
      const o: Outcome = { at, status: res.status, detail: res.text.slice(0, 300) };
      try {
        if (res.status === 202) o.id = asJob(res).id;
        else {
          o.code = asError(res).code;
          o.retryAfter = res.headers.get('retry-after');
        }
      } catch (err) {
        o.detail = `unexpected body: ${(err as Error).message}`;
      }
      this.outcomes.push(o);
    })();
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
    return p;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await Promise.all([...this.inflight]);
  }

  accepted(since = 0): string[] {
    return this.outcomes.filter((o) => o.at >= since && o.id).map((o) => o.id as string);
  }
}

async function readyz(): Promise<number> {
  const res = await cluster.client.request('GET', '/readyz', { timeoutMs: 5000 });
  return res.status;
}

/** One outage under load: take Redis down (`stop` = SHUTDOWN, `kill` = SIGKILL), check, bring it back. */
async function outageUnderLoad(mode: 'stop' | 'kill'): Promise<void> {
  const load = new Submitter();
  load.start(100);
  try {
    await waitFor(() => load.accepted().length >= 5, {
      timeoutMs: 10_000,
      what: '5 jobs accepted before the outage',
    });

    const downAt = Date.now();
    await (mode === 'stop' ? cluster.redis.stop() : cluster.redis.kill());

    const unavailable = await waitFor(() => load.outcomes.find((o) => o.at > downAt && o.status === 503), {
      timeoutMs: 10_000,
      what: 'a 503 while Redis is down',
    });
    assert.equal(unavailable.code, 'redis_unavailable', JSON.stringify(unavailable));
    assert.ok(
      unavailable.retryAfter && Number(unavailable.retryAfter) >= 1,
      `Retry-After: ${unavailable.retryAfter}`,
    );
    await waitFor(async () => (await readyz()) === 503, {
      timeoutMs: 5000,
      what: '/readyz 503 while Redis is down',
    });

    // Keep it down a little longer so submissions pile up against a dead Redis.
    await sleep(500);
    await cluster.redis.restart();
    const upAt = Date.now();

    const recovered = await waitFor(() => load.outcomes.find((o) => o.at > upAt && o.status === 202), {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'a 202 after Redis came back',
    });
    const recoveryMs = recovered.at - upAt;
    await waitFor(async () => (await readyz()) === 200, { timeoutMs: 10_000, what: '/readyz 200 again' });
    await waitFor(() => load.accepted(recovered.at).length >= 5, {
      timeoutMs: 10_000,
      what: '5 more jobs accepted after recovery',
    });
    process.stderr.write(
      `redis ${mode}: API accepted jobs again ${recoveryMs} ms after the restart ` +
        `(${load.accepted().length} accepted, ${load.outcomes.filter((o) => o.status === 503).length} × 503)\n`,
    );
  } finally {
    await load.stop();
  }

  // Every refusal was the documented one; nothing answered 500 or hung.
  const refusals = load.outcomes.filter((o) => o.status !== 202);
  const odd = refusals.filter((o) => o.status !== 503 || o.code !== 'redis_unavailable' || !o.retryAfter);
  assert.deepEqual(odd, [], 'every refusal is 503 redis_unavailable with Retry-After');

  const ids = load.accepted();
  const done = await Promise.all(ids.map((id) => cluster.client.waitForTerminal(id, 20_000)));
  const notCompleted = done.filter((j) => j.status !== 'completed');
  assert.deepEqual(
    notCompleted.map((j) => [j.id, j.status, j.error]),
    [],
    `all ${ids.length} accepted jobs completed`,
  );
}

cluster.test(
  'SHUTDOWN redis under load → 503 + Retry-After while down → restart → 202 again, every accepted job completes',
  () => outageUnderLoad('stop'),
  { timeout: 60_000 },
);

cluster.test(
  'SIGKILL redis under load (AOF fsync always) → same recovery, no accepted job lost',
  () => outageUnderLoad('kill'),
  { timeout: 60_000 },
);
