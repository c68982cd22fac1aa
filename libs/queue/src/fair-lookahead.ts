/**
 * Jobs one dispatch round must cover: the lookahead holds what the workers take during this many
 * rounds, so the queue does not run dry while the next round is on its way (Little's law with
 * a margin for a round slower than the average).
 */
export const LOOKAHEAD_ROUNDS_COVERED = 2;

/** Starts are counted over windows of this length before they update the rate. */
const RATE_WINDOW_MS = 250;

/** Weight of the newest sample in the moving averages (rate and round time). */
const SMOOTHING = 0.3;

/**
 * The lookahead of one fair shard in one worker process, sized from what the shard needs: its
 * consumption rate here (jobs started per ms, a moving average over short windows) times the time
 * a dispatch round takes to put jobs into BullMQ (script call and adds, a moving average), times
 * {@link LOOKAHEAD_ROUNDS_COVERED}; never below `floor` (the configured or default lookahead) nor
 * above `cap`. A slow model keeps its small floor (a tenant that becomes active waits behind few
 * jobs); a model whose jobs take less than a round gets enough that its workers never wait for a
 * hand-off. In time, what a newcomer waits behind the adaptive part is about two rounds.
 */
export class AdaptiveLookahead {
  private windowStart: number;
  private windowStarts = 0;
  /** Jobs started per ms (0 until a window has passed). */
  private rate = 0;
  /** Ms a round that handed out jobs took (0 until one has). */
  private roundMs = 0;

  constructor(
    readonly floor: number,
    readonly cap: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.windowStart = now();
  }

  /** A job of the shard started in this process. */
  started(): void {
    this.windowStarts++;
    this.roll();
  }

  /** A dispatch round that handed out jobs took `ms`, from its script call to its adds landing. */
  round(ms: number): void {
    this.roundMs = this.roundMs === 0 ? ms : this.roundMs + SMOOTHING * (ms - this.roundMs);
  }

  /** The lookahead to top the shard's BullMQ queue up to now. */
  get value(): number {
    this.roll();
    if (this.cap <= this.floor) return this.floor;
    const need = Math.ceil(LOOKAHEAD_ROUNDS_COVERED * this.rate * this.roundMs);
    return Math.min(this.cap, Math.max(this.floor, need));
  }

  private roll(): void {
    const t = this.now();
    const elapsed = t - this.windowStart;
    if (elapsed < RATE_WINDOW_MS) return;
    const sample = this.windowStarts / elapsed;
    this.rate = this.rate === 0 ? sample : this.rate + SMOOTHING * (sample - this.rate);
    this.windowStart = t;
    this.windowStarts = 0;
  }
}
