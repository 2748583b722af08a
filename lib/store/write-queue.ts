import { performance } from 'node:perf_hooks';
import createDebug from 'debug';

const debug = createDebug('express-sso-guard:store');

/** How often queued writes are retried while the store is unreachable (ms). */
export const RETRY_INTERVAL_MS = 1000;

/** One write that must reach the store. `attempt` resolves whether it was written. */
export interface QueuedWrite {
  /** Monotonic time (performance.now()) after which the write is pointless and dropped. */
  readonly deadline: number;
  /**
   * What the write does (e.g. `put:revoked:<id>:1`): a write whose key is already queued is not
   * queued again, so repeating one (5,000 logouts with one revoked cookie) takes no room.
   */
  readonly key?: string;
  attempt(): Promise<boolean>;
}

/**
 * Writes that must not be lost when the store is unreachable (a logout, a refresh outcome): kept
 * in order, bounded (the oldest dropped first, counted), and retried on a timer until written, not
 * only on the next request. The timer is unref'd (it never keeps a process alive) and runs only
 * while something waits; `close()` stops it.
 */
export class WriteQueue {
  private readonly queue: QueuedWrite[] = [];
  /** The queued write of each key. */
  private readonly byKey = new Map<string, QueuedWrite>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  /** Writes dropped because the queue was full. */
  dropped = 0;

  constructor(private readonly max: number) {}

  /** Writes waiting for the store. */
  get size(): number {
    return this.queue.length;
  }

  /**
   * Queues `writes` (kept in this order) behind any still waiting, then tries to write them all.
   * Resolves true when they were written now, false when they stay queued for the timer.
   */
  async add(writes: readonly QueuedWrite[]): Promise<boolean> {
    // A duplicate stands for the write already queued: it takes no room and pushes nothing out.
    const effective = writes.map((w) => (w.key === undefined ? undefined : this.byKey.get(w.key)) ?? this.push(w));
    await this.flush();
    return effective.every((w) => !this.queue.includes(w));
  }

  private push(w: QueuedWrite): QueuedWrite {
    this.queue.push(w);
    if (w.key !== undefined) this.byKey.set(w.key, w);
    if (this.queue.length > this.max) {
      this.forget(this.queue.shift()!);
      this.dropped++;
      debug('write queue full: dropped the oldest queued write');
    }
    return w;
  }

  private forget(w: QueuedWrite): void {
    if (w.key !== undefined && this.byKey.get(w.key) === w) this.byKey.delete(w.key);
  }

  /** Writes what waits, in order, stopping at the first failure (later writes depend on earlier ones). */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
      this.schedule();
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const w = this.queue[0]!;
      if (performance.now() < w.deadline && !(await w.attempt())) return;
      const i = this.queue.indexOf(w);
      if (i >= 0) this.queue.splice(i, 1);
      this.forget(w);
    }
  }

  private schedule(): void {
    if (this.queue.length > 0 && this.timer === undefined && !this.closed) {
      debug('%d store write(s) queued; retrying every %d ms', this.queue.length, RETRY_INTERVAL_MS);
      this.timer = setInterval(() => void this.flush(), RETRY_INTERVAL_MS);
      this.timer.unref();
    } else if (this.queue.length === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Stops the timer after one last attempt; what is still queued then is dropped. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
