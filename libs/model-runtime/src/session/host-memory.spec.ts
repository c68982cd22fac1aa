import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { folderBytes, hostMemoryBytes, replicasThatFit } from './host-memory';

describe('host memory and the replicas that fit in it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hp-mem-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a cgroup memory limit below the RAM, and ignores "max" and v1 "no limit"', () => {
    const files = (map: Record<string, string>) => (p: string) => {
      const t = map[p];
      if (t === undefined) throw new Error(`ENOENT ${p}`);
      return t;
    };
    const GiB = 2 ** 30;
    assert.equal(hostMemoryBytes(files({ '/sys/fs/cgroup/memory.max': `${2 * GiB}\n` }), 24 * GiB), 2 * GiB);
    assert.equal(hostMemoryBytes(files({ '/sys/fs/cgroup/memory.max': 'max\n' }), 24 * GiB), 24 * GiB);
    const v1 = { '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712' };
    assert.equal(hostMemoryBytes(files(v1), 24 * GiB), 24 * GiB);
    assert.equal(hostMemoryBytes(files({}), 24 * GiB), 24 * GiB);
  });

  it('counts a folder without its .hotpath cache; each replica as twice the folder in half the memory', () => {
    mkdirSync(join(dir, 'onnx'));
    mkdirSync(join(dir, '.hotpath'));
    writeFileSync(join(dir, 'config.json'), 'x'.repeat(100));
    writeFileSync(join(dir, 'onnx', 'model.onnx'), 'x'.repeat(900));
    writeFileSync(join(dir, '.hotpath', 'engine.onnx'), 'x'.repeat(5000));
    assert.equal(folderBytes(dir), 1000);
    assert.equal(replicasThatFit(dir, 8000), 2);
    assert.equal(folderBytes(join(dir, 'missing')), 0);
    assert.equal(replicasThatFit(join(dir, 'missing'), 8000), Infinity);
    assert.equal(replicasThatFit(undefined, 8000), Infinity);
  });
});
