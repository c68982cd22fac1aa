/** One Server-Sent Event. */
export interface SseEvent {
  /** The `event:` field; absent for data-only events (OpenAI streams). */
  event?: string;
  data: string;
  id?: string;
  /** The block as framed on the wire (line endings normalised to `\n`, without the blank line). */
  raw: string;
}

/** Parses one event block; `undefined` when it holds only comments. */
function parseBlock(block: string): SseEvent | undefined {
  const ev: SseEvent = { data: '', raw: block };
  const data: string[] = [];
  let any = false;
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    any = true;
    if (field === 'event') ev.event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') ev.id = value;
  }
  if (!any) return undefined;
  ev.data = data.join('\n');
  return ev;
}

/**
 * Incremental `text/event-stream` decoder: feed text chunks as they arrive, get the events they
 * complete. Comment lines (`:`) are skipped, multi-line `data:` fields are joined with `\n`, and
 * `\r\n` / `\r` line endings are accepted even when a chunk ends between `\r` and `\n`.
 */
export class SseDecoder {
  private buffer = '';
  /** A chunk ending in `\r` may be half of a `\r\n`: held back until the next chunk. */
  private pendingCr = false;

  feed(chunk: string): SseEvent[] {
    let text = (this.pendingCr ? '\r' : '') + chunk;
    this.pendingCr = text.endsWith('\r');
    if (this.pendingCr) text = text.slice(0, -1);
    this.buffer += text.replace(/\r\n?/g, '\n');
    const events: SseEvent[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const ev = parseBlock(this.buffer.slice(0, end));
      this.buffer = this.buffer.slice(end + 2);
      if (ev) events.push(ev);
    }
    return events;
  }
}

/** Splits a complete `text/event-stream` body into events; comment-only blocks are skipped. */
export function parseSse(text: string): SseEvent[] {
  return new SseDecoder().feed(text.endsWith('\n\n') ? text : `${text}\n\n`);
}

/** A `fetch` body (web stream) or a Node.js readable: anything yielding byte or text chunks. */
export type ChunkStream = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>;

interface ChunkSource {
  read(): Promise<{ done?: boolean; value?: Uint8Array | string }>;
  cancel(): Promise<void>;
}

function chunkSource(body: ChunkStream): ChunkSource {
  if ('getReader' in body) {
    const reader = body.getReader();
    return { read: () => reader.read(), cancel: () => reader.cancel() };
  }
  const it = body[Symbol.asyncIterator]();
  return {
    read: () => it.next(),
    cancel: async () => {
      // A Node.js stream's iterator would wait for a pending read before returning: destroy first.
      const stream = body as { destroy?: () => void };
      if (typeof stream.destroy === 'function') stream.destroy();
      await it.return?.();
    },
  };
}

/**
 * Reads an SSE response incrementally: each `next()` resolves with the events completed by the
 * next chunk(s) of the body (at least one), or `undefined` at the end.
 */
export class SseReader {
  private readonly source: ChunkSource;
  private readonly decoder = new SseDecoder();
  private readonly text = new TextDecoder();

  constructor(body: ChunkStream) {
    this.source = chunkSource(body);
  }

  async next(): Promise<SseEvent[] | undefined> {
    for (;;) {
      const { value, done } = await this.source.read();
      if (done || value === undefined) return undefined;
      const chunk = typeof value === 'string' ? value : this.text.decode(value, { stream: true });
      const events = this.decoder.feed(chunk);
      if (events.length > 0) return events;
    }
  }

  /** Every remaining event, until the server ends the stream. */
  async rest(): Promise<SseEvent[]> {
    const all: SseEvent[] = [];
    for (let batch = await this.next(); batch; batch = await this.next()) all.push(...batch);
    return all;
  }

  /**
   * Ends a stream whose last wanted event arrived (a job's `done`): reads on, discarding, until the
   * server ends it — at most `graceMs` — so the keep-alive connection goes back to the pool for the
   * next request instead of being torn down (a new TCP connection per job costs both sides far more
   * than the few bytes left); then {@link cancel}. Never throws.
   */
  async close(graceMs = 1000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    const drained = (async (): Promise<void> => {
      while ((await this.source.read()).done !== true);
    })().catch(() => undefined);
    await Promise.race([drained, late]);
    clearTimeout(timer);
    await this.cancel();
  }

  /** Stops reading and closes the stream; never throws. */
  async cancel(): Promise<void> {
    await this.source.cancel().catch(() => undefined);
  }
}
