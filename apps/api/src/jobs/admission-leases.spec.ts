import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdmissionLeases, leasePlaces, type LeaseGate } from './admission-leases';

/** A gate that grants while its places last, like the script with a fixed backlog. */
class FakeGate implements LeaseGate {
  held = new Map<string, number>();
  grants = 0;
  releases = 0;
  constructor(private free: number) {}
  async lease(_m: string, _s: number, id: string, places: number): Promise<{ admitted: boolean }> {
    if (places > this.free) return { admitted: false };
    this.free -= places;
    this.held.set(id, places);
    this.grants++;
    return { admitted: true };
  }
  async releaseLease(_m: string, id: string, places: number): Promise<void> {
    assert.equal(this.held.get(id), places);
    this.held.delete(id);
    this.free += places;
    this.releases++;
  }
}

describe('leasePlaces', () => {
  it('leases a sixteenth of the headroom, 8 to 64 places, none near the limit', () => {
    assert.equal(leasePlaces(10_000, 0), 64);
    assert.equal(leasePlaces(1000, 0), 62);
    assert.equal(leasePlaces(1000, 900), 0, 'headroom 100: 6 places are not worth a lease');
    assert.equal(leasePlaces(128, 0), 8);
    assert.equal(leasePlaces(20, 0), 0);
    assert.equal(leasePlaces(100, 500), 0);
  });
});

describe('AdmissionLeases', () => {
  it('admits a lease’s places with one grant, then takes the next lease', async () => {
    const gate = new FakeGate(10_000);
    const leases = new AdmissionLeases(gate, undefined, () => 0);
    const tickets = [];
    for (let i = 0; i < 64; i++) tickets.push(await leases.take('m', 1, 10_000, 0));
    assert.ok(tickets.every((t) => t !== undefined));
    assert.equal(gate.grants, 1);
    assert.ok(await leases.take('m', 1, 10_000, 0));
    assert.equal(gate.grants, 2, 'the 65th job took a new lease');
    assert.equal(gate.releases, 0, 'the used-up lease is held while its jobs are on their way');
    for (const t of tickets) t?.release();
    assert.equal(gate.releases, 1, 'given back once its last job is in the queue');
    tickets[0]?.release();
    assert.equal(gate.releases, 1, 'a second release of a ticket changes nothing');
  });

  it('stops admitting after the use window and gives the lease back once its jobs landed', async () => {
    let now = 0;
    const gate = new FakeGate(10_000);
    const leases = new AdmissionLeases(gate, undefined, () => now, 1000);
    const a = await leases.take('m', 1, 10_000, 0);
    now = 999;
    const b = await leases.take('m', 1, 10_000, 0);
    assert.equal(gate.grants, 1);
    now = 1000;
    const c = await leases.take('m', 1, 10_000, 0);
    assert.equal(gate.grants, 2, 'an old lease admits no more');
    a?.release();
    assert.equal(gate.releases, 0);
    b?.release();
    assert.equal(gate.releases, 1);
    c?.release();
    assert.equal(gate.held.size, 1, 'the current lease is still open');
  });

  it('shares one grant between concurrent submissions and falls back when the gate refuses', async () => {
    const gate = new FakeGate(20);
    const leases = new AdmissionLeases(gate, undefined, () => 0);
    const got = await Promise.all(Array.from({ length: 30 }, () => leases.take('m', 1, 1000, 0)));
    assert.equal(gate.grants, 0, 'a lease of 62 does not fit in 20 free places');
    assert.ok(
      got.every((t) => t === undefined),
      'every job reserves alone',
    );
    const roomy = new FakeGate(10_000);
    const shared = new AdmissionLeases(roomy, undefined, () => 0);
    const many = await Promise.all(Array.from({ length: 70 }, () => shared.take('m', 1, 10_000, 0)));
    assert.equal(roomy.grants, 1);
    assert.equal(many.filter((t) => t !== undefined).length, 64, 'the rest reserve alone');
  });

  it('never holds more places than granted, whatever the order of grants and releases', async () => {
    let now = 0;
    const gate = new FakeGate(10_000);
    const leases = new AdmissionLeases(gate, undefined, () => now, 50);
    const open: { release(): void }[] = [];
    let admitted = 0;
    for (let i = 0; i < 2000; i++) {
      now += i % 7;
      const t = await leases.take('m', 1, 10_000, (i * 37) % 5000);
      if (t) {
        admitted++;
        open.push(t);
      }
      if (i % 3 === 0) open.splice((i * 13) % Math.max(1, open.length), 1)[0]?.release();
      const leased = [...gate.held.values()].reduce((a, b) => a + b, 0);
      assert.ok(open.length <= leased, `${open.length} jobs on their way under ${leased} leased places`);
    }
    for (const t of open) t.release();
    now += 1000;
    await leases.take('m', 1, 0, 0);
    assert.ok(admitted > 0);
  });
});
