import { LRUCache } from 'lru-cache';
import { Shared, type StoreKey } from '../store/shared-store';
import type { SsoStore, SsoStoreTuning } from '../store/types';
import { Inflight } from '../util/inflight';
import { tokenHash } from '../util/crypto';
import type { SpiAnswer, SpiHandledAction } from './spi-params';

/** Most remembered answers in process; the platform retries within minutes, so few are live at once. */
const LOCAL_MAX = 10_000;
/** How long one instance holds the shared lock of a call while its handler runs (released when it ends). */
const LOCK_MS = 300_000;
/** How often an instance waiting for another one's handler looks for its answer. */
const POLL_MS = 100;

export interface SpiIdempotencyOptions {
  /** The shared store (`redisStore()`), so a retry reaching another instance is answered too. */
  readonly store?: SsoStore & SsoStoreTuning;
  /** Seal the stored answers (they may hold `appInfo` passwords): the first seals, all open. */
  readonly secrets: readonly string[];
  /** How long a successful answer is remembered (ms). */
  readonly ttlMs: number;
  /** How long an instance waits for the answer of a call another instance is running (ms). */
  readonly waitMs: number;
}

/**
 * Runs each SPI call once per `order_id` / `instance_id`: concurrent duplicates share one run, a
 * successful answer is remembered (in process, and sealed in the shared store when there is one)
 * and sent again to retries without running the handler. A failure is not remembered: the
 * platform retries precisely so that the handler runs again.
 */
export class SpiIdempotency {
  private readonly local: LRUCache<string, SpiAnswer>;
  private readonly inflight = new Inflight<SpiAnswer>();
  private readonly shared: Shared | undefined;

  constructor(private readonly options: SpiIdempotencyOptions) {
    this.local = new LRUCache<string, SpiAnswer>({ max: LOCAL_MAX, ttl: options.ttlMs });
    this.shared = options.store === undefined ? undefined : new Shared(options.store, options.secrets);
  }

  /** The answer of the call `action` + `id`: remembered, joined while running, or from `start()`. */
  run(action: SpiHandledAction, id: string, start: () => Promise<SpiAnswer>): Promise<SpiAnswer> {
    // Hashed: an id is the caller's text of any length; the key stays short and uniform.
    const key = `${action}:${tokenHash(id)}`;
    const remembered = this.local.get(key);
    if (remembered !== undefined) return Promise.resolve(remembered);
    return this.inflight.run(key, () => this.once(key, start));
  }

  private async once(key: string, start: () => Promise<SpiAnswer>): Promise<SpiAnswer> {
    const shared = this.shared;
    if (shared === undefined) return this.start(key, start);
    const storeKey: StoreKey = `spi:${key}`;
    const stored = await shared.get<SpiAnswer>(storeKey);
    if (stored !== undefined) return this.remember(key, stored);
    const lock = await shared.lock(`lock:spi:${key}`, LOCK_MS);
    if (lock.kind === 'held') return this.waitForOther(shared, key, storeKey);
    try {
      return await this.start(key, start);
    } finally {
      if (lock.kind === 'acquired') await shared.unlock(`lock:spi:${key}`, lock.owner);
    }
  }

  private async start(key: string, start: () => Promise<SpiAnswer>): Promise<SpiAnswer> {
    const answer = await start();
    if (answer.success) {
      this.remember(key, answer);
      await this.shared?.put(`spi:${key}`, answer, this.options.ttlMs);
    }
    return answer;
  }

  private remember(key: string, answer: SpiAnswer): SpiAnswer {
    this.local.set(key, answer);
    return answer;
  }

  /** Another instance runs this call: its answer, once stored, or a refusal the platform retries. */
  private async waitForOther(shared: Shared, key: string, storeKey: StoreKey): Promise<SpiAnswer> {
    const deadline = performance.now() + this.options.waitMs;
    while (performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const stored = await shared.get<SpiAnswer>(storeKey);
      if (stored !== undefined) return this.remember(key, stored);
    }
    return { success: false, message: 'this call is already being handled; retry later' };
  }
}
