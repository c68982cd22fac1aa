/** The outcome of one request, as the load generator records it. */
export interface Sample {
  ok: boolean;
  /** Milliseconds from the request's intended start (open loop) or actual start (closed loop) to its end. */
  latencyMs: number;
  /** Milliseconds from the same origin to the first token, when the request streamed. */
  ttftMs?: number;
  /** Tokens generated (for tokens/s). */
  tokens?: number;
  error?: string;
}

/** One request: `origin` is the time latency is measured from (performance.now() scale). */
export type Sender = (origin: number) => Promise<Sample>;

export interface LoadResult {
  samples: Sample[];
  /** Wall-clock milliseconds from the first send to the last completion. */
  elapsedMs: number;
}

/**
 * Closed loop: `concurrency` clients, each sending its next request when the previous one ends,
 * for `durationMs` (or until `maxRequests`). Measures throughput at a fixed number in flight.
 */
export async function closedLoop(opts: {
  concurrency: number;
  durationMs: number;
  maxRequests?: number;
  send: Sender;
}): Promise<LoadResult> {
  const samples: Sample[] = [];
  const start = performance.now();
  const stopAt = start + opts.durationMs;
  let issued = 0;
  const client = async (): Promise<void> => {
    while (performance.now() < stopAt && (opts.maxRequests === undefined || issued < opts.maxRequests)) {
      issued++;
      const t = performance.now();
      samples.push(await opts.send(t));
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, client));
  return { samples, elapsedMs: performance.now() - start };
}

/**
 * Open loop: requests start on a fixed schedule (`rate` per second) whatever the server does, and
 * each latency is measured from the request's INTENDED start time. A stalled server therefore shows
 * up as growing latency instead of silently lowering the offered load (no coordinated omission).
 */
export async function openLoop(opts: {
  rate: number;
  durationMs: number;
  send: Sender;
}): Promise<LoadResult> {
  const samples: Promise<Sample>[] = [];
  const start = performance.now();
  const total = Math.max(1, Math.floor((opts.rate * opts.durationMs) / 1000));
  const interval = 1000 / opts.rate;
  for (let i = 0; i < total; i++) {
    const intended = start + i * interval;
    const wait = intended - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    samples.push(opts.send(intended));
  }
  const done = await Promise.all(samples);
  return { samples: done, elapsedMs: performance.now() - start };
}
