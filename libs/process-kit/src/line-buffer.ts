/**
 * Splits a byte stream into lines, carrying a partial last line over to the next chunk. `flush`
 * returns what is left when the stream ends.
 */
export class LineSplitter {
  private partial = '';

  push(chunk: string): string[] {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  }

  flush(): string[] {
    const rest = this.partial;
    this.partial = '';
    return rest === '' ? [] : [rest];
  }
}

/** Keeps the last `capacity` lines (a child's stderr, printed when it dies). */
export class TailBuffer {
  private readonly lines: string[] = [];

  constructor(private readonly capacity: number) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.shift();
  }

  toArray(): string[] {
    return [...this.lines];
  }
}

/** Keeps the last `capBytes` of a process's output: enough to debug a failure, bounded in memory. */
export class OutputBuffer {
  private chunks: string[] = [];
  private size = 0;
  private dropped = 0;

  constructor(private readonly capBytes: number) {}

  push(chunk: string): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.capBytes && this.chunks.length > 1) {
      const first = this.chunks.shift() ?? '';
      this.size -= first.length;
      this.dropped += first.length;
    }
  }

  text(): string {
    const head = this.dropped > 0 ? `[... ${this.dropped} earlier characters dropped ...]\n` : '';
    return head + this.chunks.join('');
  }
}
