import { randomUUID } from 'node:crypto';

/** The most places one lease holds. */
export const LEASE_MAX_PLACES = 64;
/** Below this a lease saves too little: single reservations decide. */
export const LEASE_MIN_PLACES = 8;
/** A lease takes at most this share (1/16) of the headroom the backlog estimate leaves under max_waiting. */
export const LEASE_HEADROOM_SHARE = 16;
/**
 * How long after its grant a lease admits jobs. It counts in Redis for the reservation TTL (10 s)
 * from its grant, so a job admitted under it has at least 9 s to be in its queue, where it is
 * counted by itself (an enqueue gives up after 3 s).
 */
export const LEASE_USE_MS = 1000;

/** Places to lease for a model with `limit` max_waiting and `estimate` jobs waiting; 0 = no lease. */
export function leasePlaces(limit: number, estimate: number): number {
  const places = Math.min(LEASE_MAX_PLACES, Math.floor((limit - estimate) / LEASE_HEADROOM_SHARE));
  return places >= LEASE_MIN_PLACES ? places : 0;
}

/** The Redis side of leases (the admission gate). */
export interface LeaseGate {
  lease(
    model: string,
    shards: number,
    id: string,
    places: number,
    limit: number,
  ): Promise<{ admitted: boolean }>;
  releaseLease(model: string, id: string, places: number): Promise<void>;
}

/** One admitted job's place in a lease; `release` once the job is in its queue or was never added. */
export interface LeaseTicket {
  release(): void;
}

interface Lease {
  model: string;
  id: string;
  places: number;
  used: number;
  /** Tickets handed out whose job is not in its queue yet. */
  pending: number;
  grantedAt: number;
  closed: boolean;
  givenBack: boolean;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Admission in blocks while the backlog is far below `max_waiting`: instead of one reservation
 * script per job (and one release), an API process leases a block of places with one atomic
 * check (waiting jobs + live reservations + live leases + the block ≤ max_waiting) and admits
 * that many jobs itself, for at most {@link LEASE_USE_MS}. A lease counts all its places until
 * every job it admitted is in its queue (counted there, so counted twice until then: early 429s,
 * never an overshoot), then it is given back. At any moment the queued jobs plus those on their way
 * therefore stay within what the gate admitted, exactly as with per-job reservations. Near the
 * limit (headroom under 16 × 8 places) there is no lease and each job reserves its own place.
 */
export class AdmissionLeases {
  private readonly current = new Map<string, Lease>();
  private readonly granting = new Map<string, Promise<Lease | undefined>>();

  constructor(
    private readonly gate: LeaseGate,
    private readonly onReleaseError: (err: unknown) => void = () => undefined,
    private readonly now: () => number = Date.now,
    private readonly useMs = LEASE_USE_MS,
  ) {}

  /**
   * A place for one job of `model` from a lease (taking a new lease when needed), or undefined:
   * no lease fits (`estimate` too close to `limit`, or the gate refused), so the job reserves alone.
   */
  async take(
    model: string,
    shards: number,
    limit: number,
    estimate: number,
  ): Promise<LeaseTicket | undefined> {
    const places = leasePlaces(limit, estimate);
    if (places === 0) return undefined;
    const held = this.usable(model);
    if (held) return this.ticket(held);
    let granting = this.granting.get(model);
    if (!granting) {
      granting = this.grant(model, shards, places, limit).finally(() => this.granting.delete(model));
      this.granting.set(model, granting);
    }
    if (!(await granting)) return undefined;
    // Those who waited for the same grant may have used it up.
    const lease = this.usable(model);
    return lease ? this.ticket(lease) : undefined;
  }

  private async grant(
    model: string,
    shards: number,
    places: number,
    limit: number,
  ): Promise<Lease | undefined> {
    // Counted from before the call: the lease expires in Redis 10 s after the time sent with it.
    const grantedAt = this.now();
    const id = randomUUID();
    const { admitted } = await this.gate.lease(model, shards, id, places, limit);
    if (!admitted) return undefined;
    const previous = this.current.get(model);
    if (previous) this.close(previous);
    const lease: Lease = {
      model,
      id,
      places,
      used: 0,
      pending: 0,
      grantedAt,
      closed: false,
      givenBack: false,
      timer: undefined,
    };
    lease.timer = setTimeout(() => this.close(lease), Math.max(0, grantedAt + this.useMs - this.now()));
    lease.timer.unref();
    this.current.set(model, lease);
    return lease;
  }

  private usable(model: string): Lease | undefined {
    const lease = this.current.get(model);
    if (!lease) return undefined;
    if (lease.used < lease.places && this.now() - lease.grantedAt < this.useMs) return lease;
    this.close(lease);
    return undefined;
  }

  private ticket(lease: Lease): LeaseTicket {
    lease.used++;
    lease.pending++;
    if (lease.used >= lease.places) this.close(lease);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        lease.pending--;
        this.giveBack(lease);
      },
    };
  }

  private close(lease: Lease): void {
    if (this.current.get(lease.model) === lease) this.current.delete(lease.model);
    if (lease.closed) return;
    lease.closed = true;
    clearTimeout(lease.timer);
    this.giveBack(lease);
  }

  /** A closed lease whose jobs are all in their queues holds nothing any more. */
  private giveBack(lease: Lease): void {
    if (!lease.closed || lease.pending > 0 || lease.givenBack) return;
    lease.givenBack = true;
    this.gate.releaseLease(lease.model, lease.id, lease.places).catch(this.onReleaseError);
  }
}
