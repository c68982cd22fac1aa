import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { acceptLegacyJsonFile } from './json-flag';

describe('acceptLegacyJsonFile', () => {
  const run = (argv: string[]): { argv: string[]; warnings: string[] } => {
    const warnings: string[] = [];
    return { argv: acceptLegacyJsonFile(argv, 'bench cache', (l) => warnings.push(l)), warnings };
  };

  it('turns --json FILE into --out FILE with one deprecation warning', () => {
    const r = run(['--quick', '--json', 'out/r.json']);
    assert.deepEqual(r.argv, ['--quick', '--out', 'out/r.json']);
    assert.equal(r.warnings.length, 1);
    assert.match(
      r.warnings[0] ?? '',
      /hotpath bench cache: "--json out\/r\.json" is deprecated; use "--out out\/r\.json"/,
    );
  });

  it('turns --json=FILE into --out=FILE', () => {
    const r = run(['--json=r.json']);
    assert.deepEqual(r.argv, ['--out=r.json']);
    assert.equal(r.warnings.length, 1);
  });

  it('leaves --json alone when a flag or nothing follows', () => {
    for (const argv of [['--json'], ['--json', '--quick'], ['--quick', '--json']]) {
      const r = run(argv);
      assert.deepEqual(r.argv, argv);
      assert.deepEqual(r.warnings, []);
    }
  });
});
