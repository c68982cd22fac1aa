import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from './logger';

/** Runs `fn` with stdout and stderr captured, returning the JSON lines each received. */
function capture(fn: () => void): { out: Record<string, unknown>[]; err: Record<string, unknown>[] } {
  const lines = { out: [] as string[], err: [] as string[] };
  const write = {
    out: process.stdout.write.bind(process.stdout),
    err: process.stderr.write.bind(process.stderr),
  };
  process.stdout.write = ((c: string) => (lines.out.push(String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string) => (lines.err.push(String(c)), true)) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
  const parse = (a: string[]): Record<string, unknown>[] =>
    a
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { out: parse(lines.out), err: parse(lines.err) };
}

describe('createLogger', () => {
  it('writes JSON lines with time, level name, service, msg and bound fields; warn and error on stderr', () => {
    const { out, err } = capture(() => {
      const log = createLogger('svc', 'debug', { worker_id: 'w1' }).child({
        job_id: 'j1',
        trace_id: 'a'.repeat(32),
      });
      log.info('hello', { n: 1 });
      log.error('boom', { error: Object.assign(new Error('bad'), { code: 'inference_failed' }) });
    });
    assert.equal(out.length, 1);
    assert.equal(err.length, 1, 'an error line is written once, to stderr only');
    const line = out[0] ?? {};
    assert.match(String(line['time']), /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(
      { level: line['level'], service: line['service'], msg: line['msg'], n: line['n'], job: line['job_id'] },
      { level: 'info', service: 'svc', msg: 'hello', n: 1, job: 'j1' },
    );
    assert.equal(line['worker_id'], 'w1');
    assert.equal(line['trace_id'], 'a'.repeat(32));
    assert.deepEqual(err[0]?.['error'], { name: 'Error', message: 'bad', code: 'inference_failed' });
  });

  it('redacts credentials and user text, at the top level and one level down', () => {
    const { out } = capture(() =>
      createLogger('svc').info('req', {
        authorization: 'Bearer sk-123',
        prompt: 'my secret prompt',
        headers: { authorization: 'Bearer sk-456', secret: 'whsec' },
        route: '/v1/jobs',
      }),
    );
    const text = JSON.stringify(out);
    for (const secret of ['sk-123', 'sk-456', 'my secret prompt', 'whsec'])
      assert.ok(!text.includes(secret), secret);
    assert.equal(out[0]?.['route'], '/v1/jobs');
  });

  it('drops lines below its level', () => {
    const { out } = capture(() => createLogger('svc', 'warn').info('quiet'));
    assert.equal(out.length, 0);
  });
});
