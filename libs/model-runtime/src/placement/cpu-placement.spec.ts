import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CpuPlacement, placementBlocker, type PinThread } from './cpu-placement';

const PID = 1000;

/** A placement over `allowed` whose pins are recorded as `"<id>[ all]: <cpus>"`. */
function recorded(allowed: number[], opts: { fail?: boolean; quota?: number } = {}) {
  const pins: string[] = [];
  const logs: string[] = [];
  const pin: PinThread = async (id, cpus, all) => {
    if (opts.fail) throw new Error('taskset (util-linux) is not installed');
    pins.push(`${id}${all ? ' all' : ''}: ${cpus.join(',')}`);
  };
  const placement = new CpuPlacement({ allowed, quota: opts.quota }, 'auto', (l) => logs.push(l), pin, PID);
  return { placement, pins, logs };
}

describe('CpuPlacement', () => {
  it('stays off without affinity, with one CPU, or under a quota below the CPU set', () => {
    assert.match(placementBlocker({ allowed: null, quota: undefined }) ?? '', /no CPU affinity/);
    assert.match(placementBlocker({ allowed: [3], quota: undefined }) ?? '', /one CPU allowed \(3\)/);
    assert.match(placementBlocker({ allowed: [0, 1, 2, 3], quota: 2 }) ?? '', /quota of 2 on 4/);
    assert.equal(placementBlocker({ allowed: [0, 1], quota: 2 }), null);
    assert.equal(placementBlocker({ allowed: [0, 1], quota: undefined }), null);
  });

  it('gives a pool the highest free cores and confines the rest of the process first', async () => {
    const { placement, pins, logs } = recorded([0, 1, 2, 3]);
    assert.deepEqual(await placement.place([11]), [3]);
    assert.deepEqual(pins, [`${PID} all: 0,1,2`, '11: 3']);
    assert.deepEqual(await placement.place([12, 13]), [2, 1]);
    assert.deepEqual(pins.slice(2), ['12: 2', '13: 1']);
    assert.deepEqual(placement.rest, [0]);
    assert.match(logs.join('\n'), /replica thread\(s\) 12, 13 on CPU 2, 1; main thread and helpers on 0/);
  });

  it('pins a pool all or none, and gives an unpinned pool every core back once the rest is confined', async () => {
    const { placement, pins } = recorded([0, 1, 2]);
    assert.equal(await placement.place([11, 12, 13]), null, 'three replicas on three cores: none pinned');
    assert.deepEqual(pins, [], 'nothing confined before a pool fits');
    assert.deepEqual(await placement.place([11]), [2]);
    assert.equal(await placement.place([12, 13]), null, 'two more would leave no core for the rest');
    assert.deepEqual(pins.slice(2), ['12: 0,1,2', '13: 0,1,2']);
    placement.release(11);
    assert.deepEqual(placement.rest, [0, 1, 2]);
    assert.deepEqual(await placement.place([14]), [2], 'a respawned replica gets the freed core');
  });

  it('never pins on two cores a pool of two, nor anything when off', async () => {
    const two = recorded([0, 1]);
    assert.equal(await two.placement.place([11, 12]), null);
    assert.deepEqual(two.pins, []);
    const pins: string[] = [];
    const off = new CpuPlacement(
      { allowed: [0, 1, 2, 3], quota: undefined },
      'off',
      undefined,
      async (id) => {
        pins.push(String(id));
      },
    );
    assert.equal(await off.place([11]), null);
    assert.equal(off.offReason, 'off');
    assert.deepEqual(pins, []);
  });

  it('turns itself off when taskset fails, and says why once', async () => {
    const { placement, logs } = recorded([0, 1, 2, 3], { fail: true });
    assert.equal(await placement.place([11]), null);
    assert.equal(await placement.place([12]), null);
    assert.deepEqual(placement.rest, [0, 1, 2, 3], 'no core held');
    assert.equal(logs.filter((l) => /cpu placement off: taskset failed/.test(l)).length, 1);
  });

  it('says once why auto placement is off on this host', () => {
    const logs: string[] = [];
    const p = new CpuPlacement({ allowed: [0, 1, 2, 3], quota: 1.5 }, 'auto', (l) => logs.push(l));
    assert.match(p.offReason ?? '', /quota of 1.5 on 4/);
    assert.deepEqual(logs, ['cpu placement off: a CPU quota of 1.5 on 4 allowed CPUs']);
  });
});
