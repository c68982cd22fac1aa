/**
 * Coalesces single-text embed calls into batches without waiting on a timer: while a batch runs,
 * new texts queue; when it ends, everything queued (up to `maxBatch`) goes as the next batch. Under
 * load this reaches the largest useful batch by itself, and at low load it adds no delay, so it is
 * the in-process best case the `ort-direct` system stands for.
 */
export class EmbedCoalescer<T> {
  private queue: { text: string; resolve: (v: T) => void; reject: (e: Error) => void }[] = [];
  private running = false;

  constructor(
    private readonly embedBatch: (texts: string[]) => Promise<T[]>,
    private readonly maxBatch: number,
  ) {}

  embed(text: string): Promise<T> {
    return new Promise((resolve, reject) => {
      this.queue.push({ text, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        const out = await this.embedBatch(batch.map((b) => b.text));
        batch.forEach((b, i) => b.resolve(out[i] as T));
      } catch (err) {
        for (const b of batch) b.reject(err as Error);
      }
    }
    this.running = false;
  }
}
