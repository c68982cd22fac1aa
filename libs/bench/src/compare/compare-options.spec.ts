import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { UsageError } from '@hotpath/cli-kit';
import { parseCompareBenchOptions } from './compare-options';

const parse = (argv: string[], env: { CI?: string; HOTPATH_DATA_DIR?: string } = {}, tty = false) =>
  parseCompareBenchOptions(argv, env, tty, '/work');

describe('bench compare options', () => {
  it('defaults to the small preset, all systems and workloads, 64-128 tokens', () => {
    const o = parse([]);
    assert.deepEqual(o.model, { preset: 'small' });
    assert.deepEqual(o.systems, ['ort-direct', 'llama.cpp', 'transformers.js', 'naive', 'hotpath']);
    assert.deepEqual(o.workloads, ['generate', 'embed']);
    assert.equal(o.roofline, true);
    assert.equal(parse(['--no-roofline']).roofline, false);
    assert.equal(o.llamaThreads, undefined);
    assert.equal(parse(['--llama-threads', '1']).llamaThreads, 1);
    assert.deepEqual(o.tokens, { min: 64, max: 128 });
    assert.equal(o.dataDir, '/work/.hotpath');
    assert.equal(o.interactive, false);
    assert.equal(o.command, 'hotpath bench compare');
  });

  it('takes a model folder, output paths, and the narrowing flags', () => {
    const o = parse(
      ['--model', 'models/x', '--out', 'r.json', '--report', 'rep', '--systems', 'hotpath,ort-direct'].concat(
        ['--levels', '4,1', '--open-steps', '0', '--duration-ms', '500', '--max-tokens', '4-8', '--quick'],
      ),
      { HOTPATH_DATA_DIR: '/data' },
    );
    assert.deepEqual(o.model, { dir: '/work/models/x' });
    assert.equal(o.outFile, '/work/r.json');
    assert.equal(o.reportDir, '/work/rep');
    assert.deepEqual(o.systems, ['ort-direct', 'hotpath']);
    assert.deepEqual(o.levels, [1, 4]);
    assert.equal(o.openSteps, 0);
    assert.equal(o.durationMs, 500);
    assert.deepEqual(o.tokens, { min: 4, max: 8 });
    assert.equal(o.quick, true);
    assert.equal(o.dataDir, '/data');
  });

  it('shows progress on a TTY unless CI is set', () => {
    assert.equal(parse([], {}, true).interactive, true);
    assert.equal(parse([], { CI: 'true' }, true).interactive, false);
  });

  it('rejects bad flags with a usage error', () => {
    for (const argv of [
      ['--systems', 'vllm'],
      ['--max-tokens', '8-4'],
      ['--levels', '0'],
      ['--duration-ms', '5'],
      ['--bogus'],
    ]) {
      assert.throws(() => parse(argv), UsageError, argv.join(' '));
    }
  });
});
