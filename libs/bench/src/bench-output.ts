import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Where a bench's report goes: `--json` (the document on stdout), `--out FILE` (the document in a file). */
export interface ReportOutput {
  json: boolean;
  /** Absolute. */
  outFile: string | undefined;
}

/**
 * Where the human-readable lines (progress, tables, summaries) go: stdout, or stderr with `--json`,
 * which keeps stdout for the one JSON document so it can be piped into `jq`.
 */
export function humanStream(o: ReportOutput): NodeJS.WritableStream {
  return o.json ? process.stderr : process.stdout;
}

/** Writes `text` to `file`, creating its folder. */
export function writeOut(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** The report as JSON: on stdout with `--json`, in the file of `--out FILE`, or both. */
export function emitReport(o: ReportOutput, doc: unknown): void {
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  if (o.json) process.stdout.write(text);
  if (o.outFile) writeOut(o.outFile, text);
}

/** Where a bench run reports: progress lines (interactive only) and warnings, and its human stream. */
export function benchConsole(
  name: string,
  opts: ReportOutput & { interactive: boolean },
): { human: NodeJS.WritableStream; io: { progress(line: string): void; warn(line: string): void } } {
  const human = humanStream(opts);
  return {
    human,
    io: {
      progress: (line) => {
        if (opts.interactive) human.write(`${line}\n`);
      },
      warn: (line) => process.stderr.write(`hotpath bench ${name}: ${line}\n`),
    },
  };
}

/** `(12.3 s)`: how long the run took, the last line a bench prints. */
export function elapsedLine(startedMs: number): string {
  return `(${((Date.now() - startedMs) / 1000).toFixed(1)} s)\n`;
}
