import { LRUCache } from 'lru-cache';
import createDebug from 'debug';
import type { Config } from '../config';
import { jwtExpiry } from '../util/crypto';
import { Inflight } from '../util/inflight';
import type { Shared } from '../store/shared-store';
import type { CheckResult, SsoClient } from './sso-client';

const debug = createDebug('express-sso-guard:cache');

/** A cached check_token answer, keyed by the SHA-256 of the access token. `until` is in ms. */
export type CacheEntry =
  | { readonly kind: 'valid'; readonly until: number; readonly result: CheckResult }
  | { readonly kind: 'invalid'; readonly until: number };

/** Shortest time an answer is cached, so an STS token that expires right now cannot cause a stampede. */
const MIN_TTL_MS = 1000;

/**
 * check_token through a bounded LRU. Entries carry their own expiry (checked against the injected
 * clock), so a hit costs one Map lookup and one comparison. Concurrent lookups of one token share
 * one SSO call.
 */
export class CredentialCache {
  private readonly lru: LRUCache<string, CacheEntry>;
  private readonly inflight = new Inflight<CacheEntry>();
  private readonly clock: () => number;

  constructor(
    private readonly config: Config,
    private readonly sso: SsoClient,
    private readonly shared?: Shared,
  ) {
    this.lru = new LRUCache({ max: config.cache.max });
    this.clock = config.clock;
  }

  /** The live entry for a token hash, without calling the SSO. */
  peek(hash: string, now: number): CacheEntry | undefined {
    const entry = this.lru.get(hash);
    if (entry === undefined) return undefined;
    if (entry.until > now) {
      this.config.telemetry.checkTokenCache('hit');
      return entry;
    }
    this.lru.delete(hash);
    return undefined;
  }

  /**
   * Calls check_token (once for any number of concurrent callers) and caches the answer.
   * `tokenExpiresAt` (ms) caps the TTL. `force` skips the cached answer (fresh credentials).
   * Upstream failures reject with an SsoGuardError and are not cached.
   */
  lookup(hash: string, accessToken: string, tokenExpiresAt: number, force = false): Promise<CacheEntry> {
    if (!force) {
      const hit = this.peek(hash, this.clock());
      if (hit !== undefined) return Promise.resolve(hit);
    }
    this.config.telemetry.checkTokenCache(this.inflight.has(hash) ? 'coalesced' : 'miss');
    return this.inflight.run(hash, () => this.fetch(hash, accessToken, tokenExpiresAt, force));
  }

  private async fetch(hash: string, accessToken: string, tokenExpiresAt: number, force: boolean): Promise<CacheEntry> {
    const shared = this.shared;
    if (shared !== undefined && !force) {
      // Second level: another instance may already have asked the SSO.
      const remote = await shared.get<CacheEntry>(`check:${hash}`);
      const now = this.clock();
      if (remote !== undefined && remote.until > now && (remote.kind === 'invalid' || remote.result?.credentials !== undefined)) {
        debug('check_token answer from the shared store');
        return this.keep(hash, remote, now);
      }
    }
    const result = await this.sso.checkToken(accessToken);
    const now = this.clock();
    let entry: CacheEntry;
    if (result === undefined) {
      entry = { kind: 'invalid', until: now + this.config.cache.invalidTtl * 1000 };
      debug('check_token: token rejected (cached %ds)', this.config.cache.invalidTtl);
    } else {
      const stsExp = jwtExpiry(result.credentials.token);
      let until = Math.min(now + this.config.cache.ttl * 1000, tokenExpiresAt, stsExp === undefined ? Infinity : stsExp * 1000);
      if (until < now + MIN_TTL_MS) until = now + MIN_TTL_MS;
      entry = { kind: 'valid', until, result };
      debug('check_token: valid, cached %dms', until - now);
    }
    if (shared !== undefined) await shared.put(`check:${hash}`, entry, entry.until - now);
    return this.keep(hash, entry, now);
  }

  /** Puts an entry in the first level; with a shared store, only for `localTtl` at most. */
  private keep(hash: string, entry: CacheEntry, now: number): CacheEntry {
    const local = this.shared === undefined ? entry : { ...entry, until: Math.min(entry.until, now + this.shared.localTtl * 1000) };
    this.lru.set(hash, local);
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
  }

  /** Drops the cached answer of a token everywhere (logout). */
  async forget(hash: string): Promise<void> {
    this.lru.delete(hash);
    if (this.shared === undefined) return;
    await this.shared.delete(`check:${hash}`);
    await this.shared.publish({ kind: 'drop', hash });
  }

  /** Number of entries held (for tests and metrics). */
  get size(): number {
    return this.lru.size;
  }
}
