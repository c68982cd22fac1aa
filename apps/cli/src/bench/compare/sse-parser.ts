/** One Server-Sent Event. */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * Incremental `text/event-stream` parser: feed decoded chunks as they arrive, get the complete
 * events. Comment lines (`:`) are skipped; multi-line `data:` fields are joined with `\n`.
 */
export class SseParser {
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
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      let id: string | undefined;
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id') id = value;
      }
      if (data.length > 0 || event !== 'message')
        events.push({ event, data: data.join('\n'), ...(id ? { id } : {}) });
    }
    return events;
  }
}
