import { LRUCache } from 'lru-cache';
import type { SsoUser } from '../sso/types';
import type { CacheEntry } from '../sso/check-token-cache';

/**
 * The `authorize` option for Bearer tokens: asked on a token's first sight (its check_token
 * lookup); a refusal is remembered as long as that answer, so cached requests stay refused
 * without asking again. Bounded like the cache.
 */
export class BearerAuthorizer {
  /** Refused token hashes -> until (ms). */
  private readonly denied: LRUCache<string, number>;

  constructor(
    private readonly authorize: (user: SsoUser, req: unknown) => boolean | Promise<boolean>,
    max: number,
  ) {
    this.denied = new LRUCache({ max });
  }

  /** Whether `authorize` refused this token (and its cached answer still stands). */
  refused(hash: string, now: number): boolean {
    if (this.denied.size === 0) return false;
    const until = this.denied.get(hash);
    return until !== undefined && until > now;
  }

  /**
   * Wraps the answer of a lookup: a valid one goes to `authorize` first, and `false` (anything but
   * `true`) gives `forbidden()`. A throwing `authorize` rejects (the request goes to `next(err)`).
   */
  gate<T>(
    hash: string,
    req: unknown,
    done: (entry: CacheEntry) => T,
    forbidden: () => T,
  ): (entry: CacheEntry) => Promise<T> {
    return async (entry) => {
      if (entry.kind !== 'valid' || (await this.authorize(entry.result.user, req)) === true) return done(entry);
      this.denied.set(hash, entry.until);
      return forbidden();
    };
  }
}
