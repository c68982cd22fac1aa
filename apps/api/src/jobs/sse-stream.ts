import type { FastifyReply } from 'fastify';
import { streamStarted } from '../http/http-hooks';

/** Comment line sent when nothing else was, so proxies and clients keep an idle stream open. */
export const SSE_HEARTBEAT_MS = 15_000;
/** Default of `api.sse_max_buffered_bytes`. */
export const SSE_MAX_BUFFERED_BYTES = 256 * 1024;

/** Options of {@link SseStream.open}. */
export interface SseOptions {
  /** Headers sent with the 200, besides the SSE ones. */
  headers?: Record<string, string>;
  heartbeatMs?: number;
  /**
   * A client with more than this many bytes unread (buffered by the API because it does not read)
   * is too slow to keep: its connection is closed, so its backlog cannot grow API memory.
   */
  maxBufferedBytes?: number;
}

/**
 * A Server-Sent Events response on Fastify's raw socket (`text/event-stream`): takes the reply over
 * (`hijack`, keeping headers already set such as `x-request-id`), frames events, sends a heartbeat
 * comment every {@link SSE_HEARTBEAT_MS}, and reports the client's disconnect through `signal`.
 */
export class SseStream {
  private readonly gone = new AbortController();
  private readonly heartbeat: NodeJS.Timeout;
  private ended = false;
  /** Writes of this tick are being gathered into one socket write. */
  private corked = false;

  private constructor(
    private readonly reply: FastifyReply,
    heartbeatMs: number,
    private readonly maxBufferedBytes: number,
  ) {
    const raw = reply.raw;
    raw.on('close', () => {
      // A close before we ended the response means the client went away.
      if (!this.ended) this.gone.abort();
      this.stop();
    });
    this.heartbeat = setInterval(() => this.comment('keep-alive'), heartbeatMs);
    this.heartbeat.unref();
  }

  /** Starts the stream: status 200 and the SSE headers, plus `opts.headers`. */
  static open(reply: FastifyReply, opts: SseOptions = {}): SseStream {
    reply.hijack();
    const headers: Record<string, string | number | string[]> = {};
    for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = v;
    reply.raw.writeHead(200, {
      ...headers,
      ...opts.headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx and similar proxies would otherwise buffer the whole stream.
      'x-accel-buffering': 'no',
    });
    reply.raw.flushHeaders();
    streamStarted(reply);
    return new SseStream(
      reply,
      opts.heartbeatMs ?? SSE_HEARTBEAT_MS,
      opts.maxBufferedBytes ?? SSE_MAX_BUFFERED_BYTES,
    );
  }

  /** Aborted when the client disconnects before the stream ended. */
  get signal(): AbortSignal {
    return this.gone.signal;
  }

  get open(): boolean {
    return !this.ended && !this.gone.signal.aborted;
  }

  /** A named event: `id:` (optional), `event:`, `data:` (JSON), blank line. */
  event(name: string, data: unknown, id?: string): void {
    this.write(`${id ? `id: ${id}\n` : ''}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** An unnamed `data:` event (the OpenAI stream framing); `payload` is sent as is. */
  data(payload: string): void {
    this.write(`data: ${payload}\n\n`);
  }

  comment(text: string): void {
    this.write(`: ${text}\n\n`);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.stop();
    this.reply.raw.end();
  }

  private write(chunk: string): void {
    if (!this.open) return;
    const raw = this.reply.raw;
    if (raw.writableLength + chunk.length > this.maxBufferedBytes) {
      this.gone.abort();
      raw.destroy();
      return;
    }
    // Events that arrive together (one read of the job's event stream, several tokens of one
    // forward) leave in one socket write: cork until the current tick's writes are done.
    if (!this.corked) {
      this.corked = true;
      raw.cork();
      process.nextTick(() => {
        this.corked = false;
        raw.uncork();
      });
    }
    raw.write(chunk);
  }

  private stop(): void {
    clearInterval(this.heartbeat);
  }
}
