import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../testing/run-cli';

// One meaning of --json in every command: the JSON document on stdout. A bench writes its report
// file with --out FILE; the former "--json FILE" still works, with a deprecation warning on stderr.
// `bench tokenize --quick` runs in-process in a few seconds, so it stands for every bench here.

interface TokenizeReport {
  bench: string;
  rows: Record<string, unknown>[];
}

describe('hotpath bench: --json, --out FILE and the deprecated --json FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-json-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { ...process.env, CI: 'true' };

  it('--json prints only the JSON document on stdout, the table on stderr', async () => {
    const { code, out, err } = await runCli(['bench', 'tokenize', '--quick', '--json'], env, 120_000);
    assert.equal(code, 0, err);
    const doc = JSON.parse(out) as TokenizeReport;
    assert.equal(doc.bench, 'tokenize');
    assert.ok(doc.rows.length > 0);
    assert.ok(err.length > 0, 'the human-readable table goes to stderr');
    assert.doesNotMatch(err, /deprecated/);
  });

  it('--out FILE writes the report and keeps the table on stdout', async () => {
    const file = join(dir, 'new', 'tokenize.json');
    const { code, out, err } = await runCli(['bench', 'tokenize', '--quick', '--out', file], env, 120_000);
    assert.equal(code, 0, err);
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as TokenizeReport).bench, 'tokenize');
    assert.throws(() => JSON.parse(out), 'stdout holds the table, not JSON');
    assert.doesNotMatch(err, /deprecated/);
  });

  it('--json FILE still writes the file, with a deprecation warning on stderr', async () => {
    const file = join(dir, 'old', 'tokenize.json');
    const { code, out, err } = await runCli(['bench', 'tokenize', '--quick', '--json', file], env, 120_000);
    assert.equal(code, 0, err);
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as TokenizeReport).bench, 'tokenize');
    assert.match(err, /hotpath bench tokenize: "--json .*tokenize\.json" is deprecated; use "--out /);
    assert.throws(() => JSON.parse(out), 'stdout holds the table, not JSON');
  });
});
