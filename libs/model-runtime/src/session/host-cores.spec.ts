import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { cgroupCpuLimit, hostCores } from './host-cores';

const files =
  (map: Record<string, string>) =>
  (path: string): string => {
    const text = map[path];
    if (text === undefined) throw new Error(`ENOENT ${path}`);
    return text;
  };

describe('hostCores: the cores a worker shares out', () => {
  it('reads a cgroup v2 quota, and "max" as no limit', () => {
    assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '250000 100000\n' })), 2.5);
    assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' })), undefined);
  });

  it('falls back to the cgroup v1 CFS quota (-1: none), and to no limit without either', () => {
    const v1 = (quota: string) =>
      files({
        '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': quota,
        '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
      });
    assert.equal(cgroupCpuLimit(v1('400000')), 4);
    assert.equal(cgroupCpuLimit(v1('-1')), undefined);
    assert.equal(cgroupCpuLimit(files({})), undefined);
  });

  it('lowers the visible cores to whole cores of the limit, at least one', () => {
    const v2 = (q: string) => files({ '/sys/fs/cgroup/cpu.max': `${q} 100000` });
    assert.equal(hostCores(v2('250000'), 64), 2);
    assert.equal(hostCores(v2('50000'), 64), 1);
    assert.equal(hostCores(v2('800000'), 4), 4, 'a limit above the cores changes nothing');
    assert.equal(hostCores(files({}), 16), 16);
  });
});
