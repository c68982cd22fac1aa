import { relative } from 'node:path';
import { forgedTokenizerSpec } from '@hotpath/model-runtime';
import { TextTokenizer, TokenTextStream, buildTokenizerJson } from '@hotpath/tokenizer';

/** One tokenizer at one text length. */
export interface TokenizeBenchRow {
  tokenizer: string;
  chars: number;
  tokens: number;
  /** Median wall time of one `encode`, ms. */
  encodeMs: number;
  /** Characters encoded per second (from the median). */
  charsPerS: number;
  /** Mean cost of streaming one token through {@link TokenTextStream}, µs. */
  streamUsPerToken: number;
}

const PARAGRAPH =
  'Once upon a time, there was a little girl named Lily. She liked to play in the park with her mom. ' +
  'def f(x):\n    return x ** 2  # 你好, 世界 🙂\n';
export const BENCH_LENGTHS = [100, 1_000, 4_000, 16_000] as const;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/**
 * Encode speed of the forged `tiny` tokenizer and of each `files` tokenizer, over texts of
 * {@link BENCH_LENGTHS} characters. Every run encodes a different text (a counter in front), so no
 * whole-text cache answers it; per-word caches inside a tokenizer work as they would in service.
 */
export function runTokenizeBench(files: readonly string[], quick: boolean): TokenizeBenchRow[] {
  const tokenizers: [string, TextTokenizer][] = [
    ['forged tiny (512)', TextTokenizer.fromJson(buildTokenizerJson(forgedTokenizerSpec(512)))],
    ...files.map((f): [string, TextTokenizer] => [relative(process.cwd(), f), TextTokenizer.fromFile(f)]),
  ];
  const rows: TokenizeBenchRow[] = [];
  for (const [name, tok] of tokenizers) {
    for (const chars of BENCH_LENGTHS) {
      const runs = quick ? 3 : chars >= 4_000 ? 7 : 21;
      const text = (i: number): string =>
        `${i} ${PARAGRAPH.repeat(Math.ceil(chars / PARAGRAPH.length))}`.slice(0, chars);
      tok.encode(text(-1));
      const times: number[] = [];
      let ids: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        ids = tok.encode(text(i));
        times.push(performance.now() - t0);
      }
      const stream = new TokenTextStream(tok, undefined);
      const t0 = performance.now();
      for (const id of ids) stream.push(id);
      stream.flush();
      const streamUs = ((performance.now() - t0) * 1000) / Math.max(1, ids.length);
      const ms = median(times);
      rows.push({
        tokenizer: name,
        chars,
        tokens: ids.length,
        encodeMs: Number(ms.toFixed(3)),
        charsPerS: Math.round((chars / ms) * 1000),
        streamUsPerToken: Number(streamUs.toFixed(1)),
      });
    }
  }
  return rows;
}

/** The rows as an aligned table. */
export function formatTokenizeBench(rows: readonly TokenizeBenchRow[]): string {
  const head = ['tokenizer', 'chars', 'tokens', 'encode ms', 'chars/s', 'stream µs/token'];
  const body = rows.map((r) => [
    r.tokenizer,
    String(r.chars),
    String(r.tokens),
    r.encodeMs.toFixed(3),
    r.charsPerS.toLocaleString('en'),
    r.streamUsPerToken.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ');
  return [line(head), ...body.map(line)].join('\n');
}
