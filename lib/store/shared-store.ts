import { performance } from 'node:perf_hooks';
import createDebug from 'debug';
import { Sealer, randomToken } from '../util/crypto';
import type { SsoStore, SsoStoreTuning } from './types';

const debug = createDebug('express-sso-guard:store');

/** After a failed store call, skip the store this long before trying it again (ms). */
const RETRY_AFTER_MS = 1000;

/** Counters of a shared store's health, readable through `auth().storeStats` or tests. */
export interface StoreStats {
  /** False while the store is skipped after a failure (in-process fallback). */
  available: boolean;
  /** Store calls that failed or timed out. */
  failures: number;
  /** Times the middleware switched to in-process behaviour because of the store. */
  fallbacks: number;
}

/** The result of {@link Shared.lock}. */
export type LockResult = { readonly kind: 'acquired'; readonly owner: string } | { readonly kind: 'held' } | { readonly kind: 'unavailable' };

/** Messages between instances over the store's pub/sub channel. */
export type SharedEvent = { kind: 'revoke'; sessionId: string; until: number } | { kind: 'drop'; hash: string };

/**
 * The middleware's view of an optional shared store: sealed JSON values (a dump reveals no
 * credential), locks with owners, pub/sub events, and a bounded timeout on every call. When the
 * store fails or is slow, each call resolves its fallback instead (log once, count it), and the
 * store is tried again a second later: Redis is a helper, never a single point of failure.
 */
export class Shared {
  private readonly sealer: Sealer;
  private readonly timeout: number;
  /** Seconds an answer from the store stays in the in-process first level. */
  readonly localTtl: number;
  private skipUntil = 0;
  readonly stats: StoreStats = { available: true, failures: 0, fallbacks: 0 };

  constructor(private readonly store: SsoStore & SsoStoreTuning, secrets: readonly string[]) {
    this.sealer = new Sealer(secrets, 'store');
    this.timeout = store.timeout ?? 250;
    this.localTtl = store.localTtl ?? 30;
  }

  private async run<T>(what: string, op: () => Promise<T>, fallback: T): Promise<T> {
    if (!this.stats.available && performance.now() < this.skipUntil) return fallback;
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        op(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${this.timeout} ms`)), this.timeout);
        }),
      ]);
      if (!this.stats.available) {
        this.stats.available = true;
        debug('store available again');
      }
      return result;
    } catch (err) {
      this.stats.failures++;
      this.skipUntil = performance.now() + RETRY_AFTER_MS;
      if (this.stats.available) {
        this.stats.available = false;
        this.stats.fallbacks++;
        debug('store unavailable (%s: %s); falling back to in-process behaviour', what, (err as Error).message);
      }
      return fallback;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A sealed JSON value, or undefined (absent, unreadable, or store unavailable). */
  async get<T>(key: string): Promise<T | undefined> {
    const sealed = await this.run('get', () => this.store.get(key), undefined);
    if (sealed === undefined) return undefined;
    const plain = this.sealer.open(sealed);
    if (plain === undefined) return undefined;
    try {
      return JSON.parse(plain) as T;
    } catch {
      return undefined;
    }
  }

  /** Stores `value` sealed, for `ttlMs`. */
  async put(key: string, value: unknown, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    const sealed = this.sealer.seal(JSON.stringify(value));
    await this.run('set', () => this.store.set(key, sealed, ttlMs), false);
  }

  async delete(key: string): Promise<void> {
    await this.run('delete', () => this.store.delete(key), undefined);
  }

  /**
   * Takes a lock: `acquired` with the owner token to unlock with, `held` when another instance
   * holds it, `unavailable` when the store cannot answer (the caller then proceeds on its own).
   */
  async lock(key: string, ttlMs: number): Promise<LockResult> {
    const owner = randomToken(16);
    const taken = await this.run('lock', () => this.store.set(key, owner, ttlMs, true), null);
    if (taken === null) return { kind: 'unavailable' };
    return taken ? { kind: 'acquired', owner } : { kind: 'held' };
  }

  /** Releases a lock only if `owner` still holds it. */
  async unlock(key: string, owner: string): Promise<void> {
    await this.run('unlock', () => this.store.deleteIfEquals(key, owner), undefined);
  }

  /** Tells every instance (this one included). */
  async publish(event: SharedEvent): Promise<void> {
    const msg = event.kind === 'revoke' ? `r ${event.sessionId} ${event.until}` : `d ${event.hash}`;
    await this.run('publish', () => this.store.publish(msg), undefined);
  }

  /** Subscribes to events. A failure to subscribe is logged; local behaviour goes on. */
  async subscribe(listener: (event: SharedEvent) => void): Promise<void> {
    await this.store
      .subscribe((msg) => {
        const [kind, a, b] = msg.split(' ');
        if (kind === 'r' && a && b && Number.isFinite(Number(b))) listener({ kind: 'revoke', sessionId: a, until: Number(b) });
        else if (kind === 'd' && a) listener({ kind: 'drop', hash: a });
      })
      .catch((err: unknown) => debug('subscribe failed: %s', (err as Error).message));
  }
}
