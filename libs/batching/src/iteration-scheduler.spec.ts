import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BatchReport } from './batch-report';
import {
  IterationScheduler,
  type ScheduledOutcome,
  type SchedulerPolicy,
  type SequenceEngine,
  type SequenceStep,
} from './iteration-scheduler';

/** A token of the fake engine. */
interface FakeToken {
  index: number;
  token_id: number;
  text: string;
}
type TokenStep = SequenceStep<FakeToken>;

/** A sequence of the fake engine: emits `length` tokens (ids 0, 1, …) then finishes. */
interface FakeSeq {
  name: string;
  prompt: number;
  length: number;
  emitted: number;
}

/** Records every forward as `P:a,b` (prefill) or `D:a,b` (decode); can fail the next decode. */
class FakeEngine implements SequenceEngine<FakeSeq, FakeToken> {
  readonly log: string[] = [];
  readonly released: string[] = [];
  failNextDecode = false;
  /** Called after each forward, before the scheduler sees the steps (e.g. to move a clock). */
  afterForward: () => void = () => undefined;

  promptLength(seq: FakeSeq): number {
    return seq.prompt;
  }

  prefill(seqs: readonly FakeSeq[], _maxTokens?: number): Promise<(TokenStep | null)[]> {
    this.log.push(`P:${seqs.map((s) => s.name).join(',')}`);
    return this.step(seqs);
  }

  /** One first-token step for each of `seqs` (for engines that prefill in parts). */
  protected prefillSteps(seqs: readonly FakeSeq[]): Promise<TokenStep[]> {
    return this.step(seqs);
  }

  decode(seqs: readonly FakeSeq[]): Promise<TokenStep[]> {
    this.log.push(`D:${seqs.map((s) => s.name).join(',')}`);
    if (this.failNextDecode) {
      this.failNextDecode = false;
      return Promise.reject(new Error('boom'));
    }
    return this.step(seqs);
  }

  release(seq: FakeSeq): void {
    this.released.push(seq.name);
  }

  private async step(seqs: readonly FakeSeq[]): Promise<TokenStep[]> {
    await Promise.resolve();
    this.afterForward();
    return seqs.map((s) => {
      const index = s.emitted++;
      return {
        token: { index, token_id: index, text: `${s.name}${index}` },
        finish: s.emitted >= s.length ? 'length' : null,
      };
    });
  }
}

const seq = (name: string, length: number, prompt = 4): FakeSeq => ({ name, prompt, length, emitted: 0 });
const policy = (p: Partial<SchedulerPolicy> = {}): SchedulerPolicy => ({
  maxRunningSequences: 8,
  prefillChunkTokens: 64,
  decodeStepsPerPrefill: 1,
  ...p,
});

/** Makes the engine's prefill forwards wait until the returned function is called. */
function holdPrefills(engine: FakeEngine): () => void {
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  const prefill = engine.prefill.bind(engine);
  engine.prefill = async (seqs) => {
    await held;
    return prefill(seqs);
  };
  return () => release();
}

describe('IterationScheduler', () => {
  it('joins newcomers at the next token boundary and lets finished sequences leave at once', async () => {
    const engine = new FakeEngine();
    const s = new IterationScheduler(engine, policy());
    const tokensA: number[] = [];
    let b: Promise<ScheduledOutcome> | undefined;
    const a = s.submit(1, seq('a', 4), {
      onToken: (t) => {
        tokensA.push(t.index);
        if (t.index === 1) b = s.submit(2, seq('b', 2));
      },
    });
    const outA = await a;
    const outB = await b;
    assert.deepEqual(engine.log, ['P:a', 'D:a', 'P:b', 'D:a,b', 'D:a']);
    assert.deepEqual(tokensA, [0, 1, 2, 3]);
    assert.equal(outA.finishReason, 'length');
    assert.equal(outB?.finishReason, 'length');
    assert.equal(outB?.meanBatchSize, 2);
    assert.equal(outA.meanBatchSize, (1 + 2 + 1) / 3);
    assert.deepEqual(engine.released, ['b', 'a']);
    assert.equal(s.running + s.waiting, 0);
  });

  it('counts a sequence in its load from submission to its end, its prefill forward included', async () => {
    const engine = new FakeEngine();
    const release = holdPrefills(engine);
    const s = new IterationScheduler(engine, policy());
    const done = s.submit(1, seq('a', 1));
    assert.equal(s.load, 1, 'waiting');
    // Let the loop admit it: it is now in its prefill forward, neither waiting nor running.
    while (s.waiting > 0) await new Promise((r) => setImmediate(r));
    assert.equal(s.waiting + s.running, 0);
    assert.equal(s.load, 1, 'in its prefill');
    release();
    await done;
    assert.equal(s.load, 0);
  });

  it('prefills within the token budget, one prefill between two decode steps', async () => {
    const engine = new FakeEngine();
    const s = new IterationScheduler(engine, policy({ prefillChunkTokens: 10 }));
    await Promise.all([
      s.submit(1, seq('a', 3, 6)),
      s.submit(2, seq('b', 3, 3)),
      s.submit(3, seq('c', 3, 6)),
      s.submit(4, seq('d', 3, 20)),
    ]);
    // a+b fit in 10 tokens; c waits; d is over budget and is prefilled alone.
    assert.deepEqual(engine.log.slice(0, 6), ['P:a,b', 'D:a,b', 'P:c', 'D:a,b,c', 'P:d', 'D:c,d']);
  });

  it('gives the running batch decodeStepsPerPrefill steps before the next prefill', async () => {
    const engine = new FakeEngine();
    const s = new IterationScheduler(engine, policy({ prefillChunkTokens: 4, decodeStepsPerPrefill: 2 }));
    await Promise.all([s.submit(1, seq('a', 5)), s.submit(2, seq('b', 5)), s.submit(3, seq('c', 5))]);
    assert.deepEqual(engine.log.slice(0, 7), ['P:a', 'D:a', 'D:a', 'P:b', 'D:a,b', 'D:a,b', 'P:c']);
  });

  it('never runs more than maxBatchSize sequences; maxBatchSize 1 runs them one after another', async () => {
    const engine = new FakeEngine();
    const s = new IterationScheduler(engine, policy({ maxRunningSequences: 2 }));
    await Promise.all([1, 2, 3, 4, 5].map((k) => s.submit(k, seq(`s${k}`, 3))));
    for (const line of engine.log) assert.ok(line.slice(2).split(',').length <= 2, line);

    const naive = new FakeEngine();
    const one = new IterationScheduler(naive, policy({ maxRunningSequences: 1 }));
    const outs = await Promise.all([one.submit(1, seq('a', 2)), one.submit(2, seq('b', 2))]);
    assert.deepEqual(naive.log, ['P:a', 'D:a', 'P:b', 'D:b']);
    assert.ok((outs[1]?.batchWaitMs ?? 0) >= 0);
  });

  it('cancels one running sequence within one token while the others continue', async () => {
    const engine = new FakeEngine();
    const s = new IterationScheduler(engine, policy());
    const seen: number[] = [];
    const a = s.submit(1, seq('a', 10), {
      onToken: (t) => {
        seen.push(t.index);
        if (t.index === 2) s.cancel(1);
      },
    });
    const b = s.submit(2, seq('b', 6));
    const [outA, outB] = await Promise.all([a, b]);
    assert.equal(outA.finishReason, 'cancelled');
    assert.deepEqual(seen, [0, 1, 2]);
    assert.equal(outB.finishReason, 'length');
    assert.ok(
      engine.log.slice(3).every((l) => !l.includes('a')),
      engine.log.join(' '),
    );
  });

  it('cancels a waiting sequence without running it', async () => {
    const engine = new FakeEngine();
    const s = new IterationScheduler(engine, policy({ maxRunningSequences: 1 }));
    const a = s.submit(1, seq('a', 3));
    const b = s.submit(2, seq('b', 3));
    s.cancel(2);
    assert.equal((await b).finishReason, 'cancelled');
    await a;
    assert.ok(engine.log.every((l) => !l.includes('b')));
    assert.deepEqual(engine.released, ['a']);
  });

  it('expires waiting and running sequences at their deadline', async () => {
    let now = 1_000;
    const engine = new FakeEngine();
    engine.afterForward = () => (now += 10);
    const s = new IterationScheduler(engine, policy({ maxRunningSequences: 1 }), { now: () => now });
    const running = s.submit(1, seq('a', 100), { deadlineAt: 1_035 });
    const waiting = s.submit(2, seq('b', 2), { deadlineAt: 1_020 });
    const free = s.submit(3, seq('c', 2));
    await assert.rejects(waiting, { code: 'deadline_exceeded' });
    await assert.rejects(running, { code: 'deadline_exceeded' });
    assert.equal((await free).finishReason, 'length');
    assert.deepEqual(engine.log, ['P:a', 'D:a', 'D:a', 'D:a', 'P:c', 'D:c']);
  });

  it('admits waiting sequences highest priority first, with aging', async () => {
    let now = 1_000;
    const engine = new FakeEngine();
    engine.afterForward = () => (now += 10);
    const s = new IterationScheduler(engine, policy({ maxRunningSequences: 1, agingMs: 1_000 }), {
      now: () => now,
    });
    const first = s.submit(1, seq('a', 2));
    const low = s.submit(2, seq('low', 1), { priority: 'low' });
    const high = s.submit(3, seq('high', 1), { priority: 'high' });
    const normal = s.submit(4, seq('normal', 1));
    await Promise.all([first, low, high, normal]);
    assert.deepEqual(engine.log, ['P:high', 'P:a', 'D:a', 'P:normal', 'P:low']);

    // A low-priority sequence that waited two aging periods goes before a fresh high one.
    const aged = new FakeEngine();
    const t = { now: 5_000 };
    const s2 = new IterationScheduler(aged, policy({ maxRunningSequences: 1, agingMs: 100 }), {
      now: () => t.now,
    });
    const later: Promise<unknown>[] = [];
    const running = s2.submit(1, seq('r', 3), {
      onToken: (tok) => {
        if (tok.index === 0) later.push(s2.submit(2, seq('old', 1), { priority: 'low' }));
        if (tok.index === 1) {
          t.now += 250;
          later.push(s2.submit(3, seq('new', 1), { priority: 'high' }));
        }
      },
    });
    await running;
    // Awaited, not a timer: on a loaded machine 5 ms were sometimes not enough for both to run.
    await Promise.all(later);
    assert.deepEqual(aged.log.slice(-2), ['P:old', 'P:new']);
  });

  it('fails the batch whose forward failed and keeps serving', async () => {
    const engine = new FakeEngine();
    engine.failNextDecode = true;
    const s = new IterationScheduler(engine, policy());
    await assert.rejects(s.submit(1, seq('a', 3)), /boom/);
    assert.equal((await s.submit(2, seq('b', 2))).finishReason, 'length');
    s.close();
    await assert.rejects(s.submit(3, seq('c', 1)), { code: 'worker_shutdown' });
  });

  it('close() during a prefill forward fails its sequences when the forward ends', async () => {
    const engine = new FakeEngine();
    const release = holdPrefills(engine);
    const s = new IterationScheduler(engine, policy());
    const a = s.submit(1, seq('a', 5));
    const b = s.submit(2, seq('b', 5));
    // Both admitted: in the prefill forward, in neither the waiting nor the running list.
    while (s.waiting > 0) await new Promise((r) => setImmediate(r));
    s.close();
    release();
    await assert.rejects(a, { code: 'worker_shutdown' });
    await assert.rejects(b, { code: 'worker_shutdown' });
    assert.deepEqual(engine.log, ['P:a,b'], 'no decode after the close');
    assert.deepEqual(engine.released, ['a', 'b']);
    assert.equal(s.load, 0);
  });

  it('reports iteration groups: each prefill, and decode runs until the batch changes, before members settle', async () => {
    const engine = new FakeEngine();
    const events: string[] = [];
    const s = new IterationScheduler(engine, policy(), {
      onReport: (g: BatchReport) => {
        assert.ok(g.endedAt >= g.startedAt);
        events.push(`${g.kind}:${g.tags.join(',')}x${g.forwards}`);
      },
    });
    const a = s.submit(1, seq('a', 4), { tag: 1 }).then(() => events.push('a settled'));
    const b = s.submit(2, seq('b', 2), { tag: 2 }).then(() => events.push('b settled'));
    await Promise.all([a, b]);
    // One prefill of both (their first token), one decode step together (b's last), then a alone.
    assert.deepEqual(events, ['prefill:1,2x1', 'decode:1,2x1', 'b settled', 'decode:1x2', 'a settled']);
  });

  it('ends the decode group when a running sequence is cancelled', async () => {
    const engine = new FakeEngine();
    const groups: BatchReport[] = [];
    const s = new IterationScheduler(engine, policy(), { onReport: (g) => groups.push(g) });
    const a = s.submit(1, seq('a', 100), {
      tag: 1,
      onToken: (t) => {
        if (t.index === 3) s.cancel(1);
      },
    });
    assert.equal((await a).finishReason, 'cancelled');
    assert.deepEqual(
      groups.map((g) => `${g.kind}:${g.tags.join(',')}x${g.forwards}`),
      ['prefill:1x1', 'decode:1x3'],
    );
  });
});

/** A fake engine that prefills at most `maxTokens` prompt tokens per call (chunked prefill). */
class ChunkingEngine extends FakeEngine {
  private readonly fed = new Map<FakeSeq, number>();

  override promptLength(seq: FakeSeq): number {
    return seq.prompt - (this.fed.get(seq) ?? 0);
  }

  override async prefill(seqs: readonly FakeSeq[], maxTokens = Infinity): Promise<(TokenStep | null)[]> {
    const done: FakeSeq[] = [];
    for (const s of seqs) {
      const fed = Math.min(s.prompt, (this.fed.get(s) ?? 0) + maxTokens);
      this.fed.set(s, fed);
      if (fed === s.prompt) done.push(s);
    }
    this.log.push(`P:${seqs.map((s) => `${s.name}@${this.fed.get(s)}`).join(',')}`);
    const steps = await super.prefillSteps(done);
    return seqs.map((s) => (done.includes(s) ? (steps[done.indexOf(s)] as TokenStep) : null));
  }
}

describe('IterationScheduler with chunked prefill', () => {
  it('prefills a long prompt alone in chunks, with decode steps of the running batch between', async () => {
    const engine = new ChunkingEngine();
    const s = new IterationScheduler(engine, policy({ prefillChunkTokens: 4 }));
    let b: Promise<ScheduledOutcome> | undefined;
    const a = s.submit(1, seq('a', 6, 2), {
      onToken: (t) => {
        if (t.index === 0) b = s.submit(2, seq('b', 2, 10));
      },
    });
    await a;
    await b;
    assert.deepEqual(engine.log, ['P:a@2', 'D:a', 'P:b@4', 'D:a', 'P:b@8', 'D:a', 'P:b@10', 'D:a,b', 'D:a']);
  });

  it('close() during a chunk fails the sequence once and runs no further chunk', async () => {
    const engine = new ChunkingEngine();
    const s = new IterationScheduler(engine, policy({ prefillChunkTokens: 4 }));
    engine.afterForward = () => {
      if (engine.log.at(-1) === 'P:l@8') s.close();
    };
    await assert.rejects(s.submit(7, seq('l', 3, 12)), { code: 'worker_shutdown' });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(engine.log, ['P:l@4', 'P:l@8']);
    assert.deepEqual(engine.released, ['l'], 'released once');
    assert.equal(s.load, 0);
  });

  it('a sequence cancelled mid-prompt leaves before its next chunk and is released', async () => {
    const engine = new ChunkingEngine();
    const s = new IterationScheduler(engine, policy({ prefillChunkTokens: 4 }));
    const long = seq('l', 3, 12);
    engine.afterForward = () => {
      if (engine.log.at(-1) === 'P:l@4') s.cancel(7);
    };
    const out = await s.submit(7, long);
    assert.equal(out.finishReason, 'cancelled');
    assert.deepEqual(engine.log, ['P:l@4']);
    assert.deepEqual(engine.released, ['l']);
  });
});
