import { LRUCache } from 'lru-cache';
import type { Config } from '../config';
import { readCookies, serializeCookie } from './cookies';
import { Sealer, randomToken, safeEqual, tokenHash } from '../util/crypto';

/** A login in progress: the state sent to the SSO and where to go afterwards. */
export interface Transaction {
  state: string;
  returnTo: string;
}

/** Bytes of entropy in `state` (256 bits; the spec asks for at least 128). */
const STATE_BYTES = 32;

/**
 * One short-lived encrypted cookie per login in progress, named after a hash of its state, so
 * several tabs can log in at once without overwriting each other. Scoped to the callback path.
 */
export class TransactionCookie {
  private readonly sealer: Sealer;
  private readonly prefix: string;
  private readonly path: string;
  /** States already consumed (by hash), so a replayed callback fails even if the cookie was kept. */
  private readonly used: LRUCache<string, number>;

  constructor(private readonly config: Config) {
    this.sealer = new Sealer(config.secrets, 'transaction');
    this.prefix = config.transactionCookieName;
    this.path = config.basePath + config.routes.callback;
    this.used = new LRUCache({ max: config.cache.max });
  }

  private cookieName(state: string): string {
    return `${this.prefix}.${tokenHash(state).slice(0, 16)}`;
  }

  /** Marks a state as consumed; false when it already was. */
  private consume(state: string, until: number, now: number): boolean {
    const key = tokenHash(state);
    const seen = this.used.get(key);
    if (seen !== undefined && seen > now) return false;
    this.used.set(key, until);
    return true;
  }

  /** Starts a login: a fresh state and the Set-Cookie line that remembers it. */
  begin(returnTo: string, now: number): { state: string; setCookie: string } {
    const state = randomToken(STATE_BYTES);
    const sealed = this.sealer.seal(JSON.stringify({ s: state, r: returnTo, x: now + this.config.transactionMaxAge * 1000 }));
    const setCookie = serializeCookie(this.cookieName(state), sealed, { maxAge: this.config.transactionMaxAge, path: this.path, secure: this.config.secureCookies });
    return { state, setCookie };
  }

  /**
   * Finds the transaction for a returned `state`. `undefined` when there is no cookie for it, it
   * does not open, it has expired, or its state differs (compared in constant time).
   * Also returns the Set-Cookie line that deletes the cookie, found or not.
   */
  take(cookieHeader: string | undefined, state: string, now: number): { txn: Transaction | undefined; clear: string | undefined } {
    const name = this.cookieName(state);
    const sealed = readCookies(cookieHeader, this.prefix)?.get(name);
    if (sealed === undefined) return { txn: undefined, clear: undefined };
    const clear = serializeCookie(name, '', { maxAge: 0, path: this.path, secure: this.config.secureCookies });
    const plain = this.sealer.open(sealed);
    if (plain === undefined) return { txn: undefined, clear };
    let data: { s?: unknown; r?: unknown; x?: unknown };
    try {
      data = JSON.parse(plain) as typeof data;
    } catch {
      return { txn: undefined, clear };
    }
    if (typeof data.s !== 'string' || typeof data.r !== 'string' || typeof data.x !== 'number' || data.x <= now) return { txn: undefined, clear };
    if (!safeEqual(data.s, state) || !this.consume(data.s, data.x, now)) return { txn: undefined, clear };
    return { txn: { state: data.s, returnTo: data.r }, clear };
  }
}
