/** One parsed Server-Sent Event. */
export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
  /** The raw block, as framed on the wire (without the blank line). */
  raw: string;
}

/** Splits a complete `text/event-stream` body into events; comment-only blocks are skipped. */
export function parseSse(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  for (const block of text.split('\n\n')) {
    if (block.trim() === '') continue;
    const ev: SseEvent = { data: '', raw: block };
    const data: string[] = [];
    let any = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      any = true;
      if (field === 'data') data.push(value);
      else if (field === 'event') ev.event = value;
      else if (field === 'id') ev.id = value;
    }
    if (!any) continue;
    ev.data = data.join('\n');
    out.push(ev);
  }
  return out;
}

/**
 * Reads an SSE response incrementally: each call to `next()` resolves with the events completed
 * by the next chunk(s) of the body (at least one), or `undefined` at the end.
 */
export class SseReader {
  private buffer = '';
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  async next(): Promise<SseEvent[] | undefined> {
    for (;;) {
      const end = this.buffer.lastIndexOf('\n\n');
      if (end >= 0) {
        const complete = this.buffer.slice(0, end + 2);
        this.buffer = this.buffer.slice(end + 2);
        const events = parseSse(complete);
        if (events.length > 0) return events;
      }
      const { value, done } = await this.reader.read();
      if (done) return undefined;
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  /** Every remaining event, until the server ends the stream. */
  async rest(): Promise<SseEvent[]> {
    const all: SseEvent[] = [];
    for (;;) {
      const batch = await this.next();
      if (!batch) return all;
      all.push(...batch);
    }
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => undefined);
  }
}
