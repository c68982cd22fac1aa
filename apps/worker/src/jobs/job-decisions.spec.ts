import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ErrorCode, HotpathError, ModelConfigSchema, type QueuedJob } from '@hotpath/contracts';
import {
  JobAbort,
  abortKind,
  admitJob,
  isLastAttempt,
  jobTimings,
  settleRun,
  withModelDefaults,
  type RunEnd,
} from './job-decisions';

const model = ModelConfigSchema.parse({
  name: 'm',
  backend: 'sim',
  tasks: ['generate'],
  default_max_tokens: 9,
});
const job = (over: Partial<QueuedJob> = {}): QueuedJob =>
  ({
    id: 'j',
    tenant: 't',
    model: 'm',
    task: 'generate',
    priority: 'normal',
    shard: 0,
    deadline_at: null,
    enqueued_at: 1000,
    input: { prompt: 'x' },
    params: {},
    ...over,
  }) as QueuedJob;

describe('admitJob', () => {
  it('runs a queued or stalled-running job', () => {
    assert.deepEqual(admitJob(job(), model, 'queued', 2000), { action: 'run' });
    assert.deepEqual(admitJob(job(), model, 'running', 2000), { action: 'run' });
  });

  it('skips missing, cancelled and finished records', () => {
    assert.deepEqual(admitJob(job(), model, undefined, 2000), { action: 'skip', why: 'missing' });
    assert.deepEqual(admitJob(job(), model, 'cancelled', 2000), { action: 'skip', why: 'cancelled' });
    assert.deepEqual(admitJob(job(), model, 'completed', 2000), { action: 'skip', why: 'finished' });
  });

  it('fails a job past its deadline without running it', () => {
    assert.deepEqual(admitJob(job({ deadline_at: 2000 }), model, 'queued', 2000), {
      action: 'deadline_exceeded',
    });
    assert.deepEqual(admitJob(job({ deadline_at: 2001 }), model, 'queued', 2000), { action: 'run' });
  });

  it('treats a wrong model or unserved task as invalid input', () => {
    assert.equal(admitJob(job({ model: 'other' }), model, 'queued', 0).action, 'invalid');
    const embed = job({ task: 'embed', input: { texts: ['a'] }, params: {} } as Partial<QueuedJob>);
    assert.equal(admitJob(embed, model, 'queued', 0).action, 'invalid');
  });
});

describe('withModelDefaults', () => {
  it('fills max_tokens from the model only when unset', () => {
    const filled = withModelDefaults(job(), model);
    assert.equal(filled.task === 'generate' && filled.params.max_tokens, 9);
    const given = withModelDefaults(job({ params: { max_tokens: 3 } } as Partial<QueuedJob>), model);
    assert.equal(given.task === 'generate' && given.params.max_tokens, 3);
  });
});

describe('isLastAttempt', () => {
  it('counts 1-based attempts against the job option', () => {
    assert.equal(isLastAttempt(0, 3), false);
    assert.equal(isLastAttempt(2, 3), true);
    assert.equal(isLastAttempt(0, undefined), true);
    assert.equal(isLastAttempt(0, 1), true);
  });
});

describe('abortKind', () => {
  it('reads the worker’s abort reason', () => {
    const ac = new AbortController();
    assert.equal(abortKind(ac.signal), undefined);
    ac.abort(new JobAbort('shutdown'));
    assert.equal(abortKind(ac.signal), 'shutdown');
  });
});

describe('settleRun', () => {
  const end = (over: Partial<RunEnd>): RunEnd => ({
    succeeded: false,
    cutShort: false,
    abort: undefined,
    error: undefined,
    lastAttempt: false,
    ...over,
  });

  it('keeps a complete answer even when an abort came late', () => {
    assert.equal(settleRun(end({ succeeded: true })).action, 'complete');
    assert.equal(settleRun(end({ succeeded: true, abort: 'shutdown' })).action, 'complete');
  });

  it('settles aborted runs by the abort kind', () => {
    assert.equal(settleRun(end({ succeeded: true, cutShort: true, abort: 'cancelled' })).action, 'cancelled');
    assert.equal(settleRun(end({ error: new Error('x'), abort: 'deadline' })).action, 'deadline_exceeded');
    assert.equal(settleRun(end({ succeeded: true, cutShort: true, abort: 'shutdown' })).action, 'hand_back');
  });

  it('retries errors while attempts remain, then fails with inference_failed', () => {
    assert.deepEqual(settleRun(end({ error: new Error('boom') })), { action: 'retry' });
    assert.deepEqual(settleRun(end({ error: new Error('boom'), lastAttempt: true })), {
      action: 'fail',
      code: 'inference_failed',
      message: 'boom',
    });
  });

  it('fails permanent errors at once with their own code', () => {
    const s = settleRun(end({ error: new HotpathError(ErrorCode.InvalidInput, 'prompt too long') }));
    assert.deepEqual(s, { action: 'fail', code: 'invalid_input', message: 'prompt too long' });
  });
});

describe('jobTimings', () => {
  it('measures queue and total from enqueue', () => {
    assert.deepEqual(jobTimings(1000, 1500, 1800, { batchWaitMs: 2, inferenceMs: 250.5 }), {
      queue: 500,
      batch_wait: 2,
      inference: 250.5,
      total: 800,
    });
    assert.deepEqual(jobTimings(1000, 1200, 1200), {
      queue: 200,
      batch_wait: null,
      inference: null,
      total: 200,
    });
  });
});
