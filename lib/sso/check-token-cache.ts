import { LRUCache } from 'lru-cache';
import createDebug from 'debug';
import type { Telemetry } from '../telemetry/telemetry';
import { jwtExpiry } from '../util/crypto';
import { Inflight } from '../util/inflight';
import { SsoGuardError } from '../errors';
import type { Shared } from '../store/shared-store';
import type { SsoClient } from './sso-client';
import type { CheckResult } from './types';

const debug = createDebug('express-sso-guard:cache');

/** A cached check_token answer, keyed by the SHA-256 of the access token. `until` is in ms. */
export type CacheEntry =
  | { readonly kind: 'valid'; readonly until: number; readonly result: CheckResult }
  | { readonly kind: 'invalid'; readonly until: number };

/** What the check_token cache works with (`cache.max`, `cache.ttl`, `cache.invalidTtl`). */
export interface CheckTokenCacheOptions {
  readonly sso: SsoClient;
  readonly telemetry: Telemetry;
  readonly clock: () => number;
  /** The shared store's view (the second level), when a store is configured. */
  readonly shared?: Shared;
  /** Most entries, valid and invalid each. */
  readonly max: number;
  /** Longest a valid answer is kept (seconds). */
  readonly ttl: number;
  /** How long a rejection is kept (seconds). */
  readonly invalidTtl: number;
}

/** How a lookup treats the cache and the SSO. */
export interface LookupOptions {
  /** Skip the cached answer (fresh credentials). */
  readonly force?: boolean;
  /** A token the cache does not know, from an Authorization header: the call passes the bounded gate. */
  readonly bearer?: boolean;
}

/** Shortest time an answer is cached, so an STS token that expires right now cannot cause a stampede. */
const MIN_TTL_MS = 1000;
/** Most check_token calls in flight at once for Bearer tokens the cache does not know. */
export const BEARER_CHECKS_IN_FLIGHT = 16;
/** Most unknown Bearer tokens waiting for one of those calls; past it, 503 with Retry-After. */
export const BEARER_CHECKS_QUEUED = 128;

/** A counting semaphore with a bounded queue: `run` rejects at once when the queue is full. */
class Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly limit: number,
    private readonly queue: number,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      if (this.waiting.length >= this.queue)
        throw new SsoGuardError('upstream_unavailable', 'Too many unknown Bearer tokens being checked; retry shortly');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await task();
    } finally {
      // Hand the slot to the next waiter (active stays the same), or free it.
      const next = this.waiting.shift();
      if (next === undefined) this.active--;
      else next();
    }
  }
}

/**
 * check_token through a bounded LRU. Entries carry their own expiry (checked against the injected
 * clock), so a hit costs one Map lookup and one comparison. Concurrent lookups of one token share
 * one SSO call. Negative answers ("invalid") live in a second LRU of their own, so a flood of
 * unknown tokens never evicts signed-in sessions; check_token calls for unknown Bearer tokens are
 * bounded ({@link BEARER_CHECKS_IN_FLIGHT} at once, {@link BEARER_CHECKS_QUEUED} waiting).
 */
export class CheckTokenCache {
  private readonly lru: LRUCache<string, CacheEntry>;
  private readonly negative: LRUCache<string, CacheEntry>;
  private readonly bearerGate = new Gate(BEARER_CHECKS_IN_FLIGHT, BEARER_CHECKS_QUEUED);
  private readonly inflight = new Inflight<CacheEntry>();
  private readonly clock: () => number;
  private readonly options: CheckTokenCacheOptions;
  private readonly sso: SsoClient;
  private readonly telemetry: Telemetry;
  private readonly shared: Shared | undefined;

  constructor(options: CheckTokenCacheOptions) {
    this.options = options;
    ({ sso: this.sso, telemetry: this.telemetry, shared: this.shared, clock: this.clock } = options);
    this.lru = new LRUCache({ max: options.max });
    this.negative = new LRUCache({ max: options.max });
  }

  /** The live entry for a token hash, without calling the SSO. */
  peek(hash: string, now: number): CacheEntry | undefined {
    const entry = this.lru.get(hash) ?? this.negative.get(hash);
    if (entry === undefined) return undefined;
    if (entry.until > now) {
      this.telemetry.checkTokenCache('hit');
      return entry;
    }
    this.delete(hash);
    return undefined;
  }

  /**
   * Calls check_token (once for any number of concurrent callers) and caches the answer.
   * `tokenExpiresAt` (ms) caps the TTL. Upstream failures reject with an SsoGuardError and are
   * not cached. A `bearer` lookup past the bounded gate rejects with `upstream_unavailable` (503,
   * Retry-After).
   */
  lookup(hash: string, accessToken: string, tokenExpiresAt: number, options: LookupOptions = {}): Promise<CacheEntry> {
    const { force = false, bearer = false } = options;
    if (!force) {
      const hit = this.peek(hash, this.clock());
      if (hit !== undefined) return Promise.resolve(hit);
    }
    this.telemetry.checkTokenCache(this.inflight.has(hash) ? 'coalesced' : 'miss');
    return this.inflight.run(hash, () => this.fetch(hash, accessToken, tokenExpiresAt, force, bearer));
  }

  private async fetch(
    hash: string,
    accessToken: string,
    tokenExpiresAt: number,
    force: boolean,
    bearer: boolean,
  ): Promise<CacheEntry> {
    const shared = this.shared;
    if (shared !== undefined && !force) {
      // Second level: another instance may already have asked the SSO.
      const remote = await shared.get<CacheEntry>(`check:${hash}`);
      const now = this.clock();
      if (
        remote !== undefined &&
        remote.until > now &&
        (remote.kind === 'invalid' || remote.result?.credentials !== undefined)
      ) {
        debug('check_token answer from the shared store');
        return this.keep(hash, remote, now);
      }
    }
    const result = bearer
      ? await this.bearerGate.run(() => this.sso.checkToken(accessToken))
      : await this.sso.checkToken(accessToken);
    const now = this.clock();
    let entry: CacheEntry;
    if (result === undefined) {
      entry = { kind: 'invalid', until: now + this.options.invalidTtl * 1000 };
      debug('check_token: token rejected (cached %ds)', this.options.invalidTtl);
    } else {
      entry = this.validEntry(result, tokenExpiresAt, now);
      debug('check_token: valid, cached %dms', entry.until - now);
    }
    if (shared !== undefined) await shared.put(`check:${hash}`, entry, entry.until - now);
    return this.keep(hash, entry, now);
  }

  /** A valid entry: TTL = min(configured TTL, token expiry, STS token `exp`), at least a second. */
  private validEntry(result: CheckResult, tokenExpiresAt: number, now: number): CacheEntry {
    const stsExp = jwtExpiry(result.credentials.token);
    let until = Math.min(
      now + this.options.ttl * 1000,
      tokenExpiresAt,
      stsExp === undefined ? Infinity : stsExp * 1000,
    );
    if (until < now + MIN_TTL_MS) until = now + MIN_TTL_MS;
    return { kind: 'valid', until, result };
  }

  /**
   * Caches a check_token answer the SSO gave some other way (a refresh answer carrying the keys
   * and user), under the same TTL rules, so the next lookup needs no check_token call.
   */
  async seed(hash: string, result: CheckResult, tokenExpiresAt: number): Promise<void> {
    const now = this.clock();
    const entry = this.validEntry(result, tokenExpiresAt, now);
    debug('check_token answer seeded from a refresh, cached %dms', entry.until - now);
    if (this.shared !== undefined) await this.shared.put(`check:${hash}`, entry, entry.until - now);
    this.keep(hash, entry, now);
  }

  /** Puts an entry in the first level; with a shared store, only for `localTtl` at most. */
  private keep(hash: string, entry: CacheEntry, now: number): CacheEntry {
    const local =
      this.shared === undefined ? entry : { ...entry, until: Math.min(entry.until, now + this.shared.localTtl * 1000) };
    if (local.kind === 'valid') {
      this.negative.delete(hash);
      this.lru.set(hash, local);
    } else {
      this.lru.delete(hash);
      this.negative.set(hash, local);
    }
    return local;
  }

  /** The user of a live cached answer, without counting a lookup (for the `logout` event). */
  userOf(hash: string, now: number): string | undefined {
    const entry = this.lru.peek(hash);
    return entry?.kind === 'valid' && entry.until > now ? entry.result.user.user_id : undefined;
  }

  /** Drops the cached answer of a token here only (an invalidation from another instance). */
  delete(hash: string): void {
    this.lru.delete(hash);
    this.negative.delete(hash);
  }

  /** Drops the cached answers of one user here (`revokeUser`); rare, so a scan. */
  dropUser(matches: (user: CheckResult['user']) => boolean): void {
    const hashes: string[] = [];
    this.lru.forEach((entry, hash) => {
      if (entry.kind === 'valid' && matches(entry.result.user)) hashes.push(hash);
    });
    for (const hash of hashes) this.lru.delete(hash);
  }

  /** Drops every cached answer here (the store's events may have been missed). */
  clear(): void {
    this.lru.clear();
    this.negative.clear();
  }

  /** Drops the cached answer of a token everywhere (logout). */
  async forget(hash: string): Promise<void> {
    this.delete(hash);
    if (this.shared === undefined) return;
    await this.shared.delete(`check:${hash}`);
    await this.shared.publish({ kind: 'drop', hash });
  }

  /** Number of entries held, negative ones included (for tests and metrics). */
  get size(): number {
    return this.lru.size + this.negative.size;
  }
}
