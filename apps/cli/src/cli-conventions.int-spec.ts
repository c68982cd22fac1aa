import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { version } from '../package.json';
import { runCli } from './testing/run-cli';

// The conventions every `hotpath` command shares, checked on the built CLI as users run it.

describe('hotpath CLI conventions', () => {
  it('--version and -V print the version', async () => {
    for (const flag of ['--version', '-V']) {
      const run = await runCli([flag], process.env, 15_000);
      assert.equal(run.code, 0);
      assert.equal(run.out.trim(), version);
    }
  });

  it('a command group alone lists its subcommands; an unknown subcommand is a usage error', async () => {
    const models = await runCli(['models'], process.env, 15_000);
    assert.equal(models.code, 0, models.err);
    for (const sub of ['forge', 'import-llama2c', 'export-gguf', 'inspect'])
      assert.match(models.out, new RegExp(`hotpath models ${sub}`));
    assert.doesNotMatch(models.out, /hotpath bench/);
    const bench = await runCli(['bench'], process.env, 15_000);
    assert.equal(bench.code, 0);
    assert.match(bench.out, /hotpath bench compare/);
    const bad = await runCli(['models', 'nope'], process.env, 15_000);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /unknown command "models nope"/);
  });

  it('up --help names the built-in models', async () => {
    const run = await runCli(['up', '--help'], process.env, 15_000);
    assert.equal(run.code, 0);
    for (const m of ['sim (sim', 'tiny (onnx', 'tiny-embed (onnx']) assert.ok(run.out.includes(m), m);
  });
});
