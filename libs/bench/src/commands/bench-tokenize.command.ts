import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError, type CliCommand, parseFlags } from '@hotpath/cli-kit';
import { REPORT_FLAGS } from '../bench-flags';
import { emitReport, humanStream } from '../bench-output';
import { formatTokenizeBench, runTokenizeBench } from '../tokenize-bench';

const USAGE = `Usage: hotpath bench tokenize [--tokenizer FILE]... [--quick] [--json] [--out FILE]

Encode speed (median ms per encode, characters per second) and streaming-detokenization cost per
token of the forged tiny tokenizer and of each --tokenizer tokenizer.json, on texts of 100, 1 000,
4 000 and 16 000 characters. In-process; no cluster.

Options:
  --tokenizer FILE  a tokenizer.json to measure too (repeatable)
  --quick           3 runs per length instead of 7-21
  --json            print the rows as JSON to stdout (human-readable lines go to stderr)
  --out FILE        write the rows as JSON to FILE`;

/** `hotpath bench tokenize`: tokenizer encode and streaming speed. */
export const BENCH_TOKENIZE_COMMAND: CliCommand = {
  path: ['bench', 'tokenize'],
  summary: 'tokenizer encode speed and streaming detokenization cost (in-process)',
  usage: USAGE,
  async run(argv) {
    const values = parseFlags(argv, {
      tokenizer: { type: 'string', multiple: true, default: [] },
      quick: { type: 'boolean', default: false },
      ...REPORT_FLAGS,
    });
    const output = { json: values.json, outFile: values.out === undefined ? undefined : resolve(values.out) };
    const files = values.tokenizer.map((f) => resolve(f));
    for (const f of files)
      if (!existsSync(f)) throw new UsageError(`--tokenizer ${f} does not exist`, 'file_not_found');
    const rows = runTokenizeBench(files, values.quick);
    humanStream(output).write(`${formatTokenizeBench(rows)}\n`);
    emitReport(output, { bench: 'tokenize', rows });
    return 0;
  },
};
