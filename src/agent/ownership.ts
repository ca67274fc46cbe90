import type { Log } from "../log.js";
import type { Store } from "../store/store.js";

/**
 * One owner per thread at a time. Whatever advances a thread (an inbox entry, the recovery sweep)
 * first takes the thread's lease in the store; a second owner gets a ThreadBusyError and leaves the
 * thread alone, and the work that woke it stays queued until the owner lets go.
 */

export class ThreadBusyError extends Error {
  constructor(readonly threadId: string) {
    super(`thread ${threadId} is being advanced by another worker`);
    this.name = "ThreadBusyError";
  }
}

/** The leases one unit of work (one inbox entry, one sweep visit) holds, renewed while it runs. */
export class ThreadLeases {
  private readonly held = new Set<string>();
  private readonly lost = new Set<string>();
  private closed = false;

  constructor(
    private readonly deps: { store: Store; clock: () => Date; log: Log },
    readonly owner: string,
    private readonly leaseMs: number,
  ) {}

  /**
   * Takes (or confirms) this work's lease on the thread; throws ThreadBusyError when another owner
   * holds it, or when this work's lease ran out and was taken over.
   */
  own = async (threadId: string): Promise<void> => {
    if (this.closed || this.lost.has(threadId)) throw new ThreadBusyError(threadId);
    if (this.held.has(threadId)) return;
    const taken = await this.deps.store.acquireThreadLease(
      threadId,
      this.owner,
      this.deps.clock(),
      this.leaseMs,
    );
    if (!taken) throw new ThreadBusyError(threadId);
    this.held.add(threadId);
  };

  /** Extends every lease held; a lease found lost is never acted on again by this work. */
  async renew(): Promise<void> {
    const until = new Date(this.deps.clock().getTime() + this.leaseMs);
    for (const threadId of this.held) {
      const kept = await this.deps.store.renewThreadLease(threadId, this.owner, until);
      if (!kept) {
        this.held.delete(threadId);
        this.lost.add(threadId);
        this.deps.log.warn({ thread: threadId }, "lost the thread's lease; another worker took it over");
      }
    }
  }

  /**
   * For work cut off by a shutdown: its leases end `safetyMs` from now instead of at once, so a write
   * still on the wire lands before another worker takes over (and looks for it first).
   */
  async handBack(safetyMs: number): Promise<void> {
    this.closed = true;
    const until = new Date(this.deps.clock().getTime() + safetyMs);
    for (const threadId of this.held) await this.deps.store.renewThreadLease(threadId, this.owner, until);
    this.held.clear();
  }

  async releaseAll(): Promise<void> {
    for (const threadId of this.held) await this.deps.store.releaseThreadLease(threadId, this.owner);
    this.held.clear();
  }
}
