import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError, type CliCommand } from '@hotpath/cli-kit';
import { parseBenchFlags } from '../bench-flags';
import { formatTokenizeBench, runTokenizeBench } from '../tokenize-bench';

const USAGE = `Usage: hotpath bench tokenize [--tokenizer FILE]... [--quick] [--json FILE]

Encode speed (median ms per encode, characters per second) and streaming-detokenization cost per
token of the forged tiny tokenizer and of each --tokenizer tokenizer.json, on texts of 100, 1 000,
4 000 and 16 000 characters. In-process; no cluster.

Options:
  --tokenizer FILE  a tokenizer.json to measure too (repeatable)
  --quick           3 runs per length instead of 7-21
  --json FILE       also write the rows as JSON`;

/** `hotpath bench tokenize`: tokenizer encode and streaming speed. */
export const BENCH_TOKENIZE_COMMAND: CliCommand = {
  path: ['bench', 'tokenize'],
  summary: 'tokenizer encode speed and streaming detokenization cost (in-process)',
  usage: USAGE,
  async run(argv) {
    const values = parseBenchFlags(argv, {
      tokenizer: { type: 'string', multiple: true, default: [] },
      quick: { type: 'boolean', default: false },
      json: { type: 'string' },
    });
    const files = values.tokenizer.map((f) => resolve(f));
    for (const f of files)
      if (!existsSync(f)) throw new UsageError(`--tokenizer ${f} does not exist`, 'file_not_found');
    const rows = runTokenizeBench(files, values.quick);
    process.stdout.write(`${formatTokenizeBench(rows)}\n`);
    if (values.json) {
      const out = resolve(values.json);
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, `${JSON.stringify({ bench: 'tokenize', rows }, null, 2)}\n`);
    }
    return 0;
  },
};
