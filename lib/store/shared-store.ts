import { performance } from 'node:perf_hooks';
import createDebug from 'debug';
import { Sealer, randomToken } from '../util/crypto';
import type { SsoStore, SsoStoreTuning } from './types';
import { RETRY_INTERVAL_MS, WriteQueue } from './write-queue';

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
  /** Writes (logouts, refresh outcomes) waiting for the store to be reachable again. */
  readonly queued: number;
  /** Queued writes dropped because too many waited (the oldest first). */
  readonly dropped: number;
}

/** The result of {@link Shared.lock}. */
export type LockResult =
  { readonly kind: 'acquired'; readonly owner: string } | { readonly kind: 'held' } | { readonly kind: 'unavailable' };

/**
 * Messages between instances over the store's pub/sub channel; `resync` is local: the
 * subscription was lost and restored, so messages may have been missed meanwhile.
 */
export type SharedEvent =
  | { kind: 'revoke'; sessionId: string; until: number }
  | { kind: 'drop'; hash: string }
  /** `revokeUser`: sessions of the user (by key, a hash of the id) signed in before `notBefore` (ms) are refused. */
  | { kind: 'user'; userKey: string; notBefore: number }
  | { kind: 'resync' };

/** What a sealed store value is for; the first segment of its key. */
export type StorePurpose = 'check' | 'session' | 'refresh' | 'revoked' | 'spi' | 'user';
/** A key of a sealed value: its purpose, then an id (a hash or a random session id). */
export type StoreKey = `${StorePurpose}:${string}`;

/** A write that must reach the store (queued and retried while it is unreachable). */
export type DurableWrite =
  | { readonly put: StoreKey; readonly value: unknown; readonly ttlMs: number }
  | { readonly delete: StoreKey }
  | { readonly publish: SharedEvent };

/** A message's text before it is sealed (also the key of its queued write); `undefined` for `resync` (local). */
function eventText(e: SharedEvent): string | undefined {
  if (e.kind === 'revoke') return `r ${e.sessionId} ${e.until}`;
  if (e.kind === 'drop') return `d ${e.hash}`;
  if (e.kind === 'user') return `u ${e.userKey} ${e.notBefore}`;
  return undefined;
}

/** Most writes kept for an unreachable store; past it the oldest are dropped (counted). */
const MAX_QUEUED_WRITES = 10_000;

/**
 * The middleware's view of an optional shared store: sealed JSON values (a dump reveals no
 * credential), each bound to its purpose and full key (a value copied under another key does not
 * open: a miss), locks with owners, pub/sub events, and a bounded timeout on every call. When the
 * store fails or is slow, each call resolves its fallback instead (log once, count it), and the
 * store is tried again a second later: Redis is a helper, never a single point of failure. Writes
 * that must not be lost (logouts, refresh outcomes) are queued and retried until written.
 */
export class Shared {
  private readonly sealer: Sealer;
  private readonly timeout: number;
  private readonly prefix: string;
  private readonly queue = new WriteQueue(MAX_QUEUED_WRITES);
  /** Seconds an answer from the store stays in the in-process first level. */
  readonly localTtl: number;
  private skipUntil = 0;
  readonly stats: StoreStats = ((queue) => ({
    available: true,
    failures: 0,
    fallbacks: 0,
    get queued() {
      return queue.size;
    },
    get dropped() {
      return queue.dropped;
    },
  }))(this.queue);

  constructor(
    private readonly store: SsoStore & SsoStoreTuning,
    secrets: readonly string[],
    /** Told of each failed call that answered its fallback (`first`: the store just became unavailable). */
    private readonly onFallback?: (operation: string, first: boolean, why: string) => void,
    /** A revocation heard is kept at most `maxLifetimeMs` (the longest session) from `clock()`. */
    private readonly limits: { clock: () => number; maxLifetimeMs: number } = {
      clock: Date.now,
      maxLifetimeMs: Infinity,
    },
  ) {
    this.sealer = new Sealer(secrets, 'store');
    this.timeout = store.timeout ?? 250;
    this.localTtl = store.localTtl ?? 30;
    this.prefix = typeof store.prefix === 'string' ? store.prefix : '';
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
      this.onFallback?.(what, this.stats.available, (err as Error).message);
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

  /** Authenticated data of a value: its purpose and full key, as the store holds it. */
  private context(key: StoreKey): string {
    return `store value\0${this.prefix}${key}`;
  }

  /** A sealed JSON value, or undefined (absent, unreadable, sealed for another key, or store unavailable). */
  async get<T>(key: StoreKey): Promise<T | undefined> {
    const sealed = await this.run('get', () => this.store.get(key), undefined);
    if (sealed === undefined) return undefined;
    const plain = this.sealer.open(sealed, this.context(key));
    if (plain === undefined) {
      debug('a store value did not open under its key: ignored');
      return undefined;
    }
    try {
      return JSON.parse(plain) as T;
    } catch {
      return undefined;
    }
  }

  /**
   * Stores `value` sealed, for `ttlMs`; with `onlyIfAbsent`, only when `key` holds nothing.
   * Resolves whether it was written.
   */
  async put(key: StoreKey, value: unknown, ttlMs: number, onlyIfAbsent = false): Promise<boolean> {
    if (ttlMs <= 0) return true;
    const sealed = this.sealer.seal(JSON.stringify(value), this.context(key));
    if (onlyIfAbsent) return this.run('set', () => this.store.set(key, sealed, ttlMs, true), false);
    return this.run('set', async () => (await this.store.set(key, sealed, ttlMs), true), false);
  }

  /**
   * How late a durable write may reach the store after a stall shorter than this (ms): its
   * attempt times out (`timeout`), the store is then skipped for a second, and the queue retries
   * on its cadence. An instance that reads nothing may be that much ahead of another's write.
   */
  get writeLagMs(): number {
    return this.timeout + RETRY_AFTER_MS + RETRY_INTERVAL_MS;
  }

  /** Deletes `key`. Resolves whether the store was reached. */
  async delete(key: StoreKey): Promise<boolean> {
    return this.run('delete', async () => (await this.store.delete(key), true), false);
  }

  /**
   * Writes that must not be lost, in order: written now when the store answers, otherwise queued
   * (bounded) and retried every second until written, whatever requests come. Resolves whether
   * they were all written now.
   */
  async writeDurably(writes: readonly DurableWrite[]): Promise<boolean> {
    const now = performance.now();
    // Keys name what a write does, value included: only an identical write is a duplicate.
    const queued = writes.map((w) => {
      if ('put' in w) {
        const deadline = now + w.ttlMs;
        return {
          deadline,
          key: `put:${w.put}:${JSON.stringify(w.value)}`,
          attempt: () => this.put(w.put, w.value, deadline - performance.now()),
        };
      }
      // A deletion or an event matters as long as any session could: keep it up to a day.
      const deadline = now + 86_400_000;
      if ('delete' in w) return { deadline, key: `delete:${w.delete}`, attempt: () => this.delete(w.delete) };
      const e = w.publish;
      const key = eventText(e);
      return { deadline, key: key && `publish:${key}`, attempt: () => this.publish(e) };
    });
    return this.queue.add(queued);
  }

  /**
   * Takes a lock: `acquired` with the owner token to unlock with, `held` when another instance
   * holds it, `unavailable` when the store cannot answer (the caller then proceeds on its own).
   */
  async lock(key: `lock:${string}`, ttlMs: number): Promise<LockResult> {
    const owner = randomToken(16);
    const taken = await this.run('lock', () => this.store.set(key, owner, ttlMs, true), null);
    if (taken === null) return { kind: 'unavailable' };
    return taken ? { kind: 'acquired', owner } : { kind: 'held' };
  }

  /** Releases a lock only if `owner` still holds it. */
  async unlock(key: `lock:${string}`, owner: string): Promise<void> {
    await this.run('unlock', () => this.store.deleteIfEquals(key, owner), undefined);
  }

  /** Authenticated data of a pub/sub message: its purpose and the channel's prefix. */
  private eventContext(): string {
    return `store event\0${this.prefix}`;
  }

  /**
   * Tells every instance (this one included), sealed like store values: anyone who can PUBLISH on
   * the channel but lacks the secret cannot sign a user out. Resolves whether the store took it.
   */
  async publish(event: SharedEvent): Promise<boolean> {
    const plain = eventText(event);
    if (plain === undefined) return true;
    const msg = this.sealer.seal(plain, this.eventContext());
    return this.run('publish', async () => (await this.store.publish(msg), true), false);
  }

  /** A message heard on the channel; `undefined` (logged) when it does not open or is not one of ours. */
  private readEvent(msg: string): SharedEvent | undefined {
    const plain = this.sealer.open(msg, this.eventContext());
    if (plain === undefined) {
      debug('a pub/sub message did not open (unsealed, forged or another secret): ignored');
      return undefined;
    }
    const [kind, a, b] = plain.split(' ');
    if (kind === 'r' && a && b && Number.isFinite(Number(b))) {
      // Never longer than a session can live, whatever the message says.
      const until = Math.min(Number(b), this.limits.clock() + this.limits.maxLifetimeMs);
      return { kind: 'revoke', sessionId: a, until };
    }
    if (kind === 'd' && a) return { kind: 'drop', hash: a };
    if (kind === 'u' && a && b && Number.isFinite(Number(b))) {
      // Never in the future (it would refuse sign-ins still to come), whatever the message says.
      return { kind: 'user', userKey: a, notBefore: Math.min(Number(b), this.limits.clock()) };
    }
    return undefined;
  }

  /**
   * Subscribes to events. A failure to subscribe is logged; local behaviour goes on. When the
   * store reports a lost and restored subscription, the listener gets `resync`.
   */
  async subscribe(listener: (event: SharedEvent) => void): Promise<void> {
    await this.store
      .subscribe(
        (msg) => {
          const event = this.readEvent(msg);
          if (event !== undefined) listener(event);
        },
        () => {
          debug('subscription restored: dropping first-level entries (events may have been missed)');
          listener({ kind: 'resync' });
          // Writes queued during the outage need not wait for the timer.
          void this.queue.flush();
        },
      )
      .catch((err: unknown) => debug('subscribe failed: %s', (err as Error).message));
  }

  /** Stops retrying (after one last attempt) and closes what the store opened itself. */
  async close(): Promise<void> {
    await this.queue.close();
    await this.store.close?.();
  }
}
