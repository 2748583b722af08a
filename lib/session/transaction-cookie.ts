import { LRUCache } from 'lru-cache';
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
 * Most logins in progress at once in one browser (one cookie each). A fifth login drops the
 * oldest. With {@link MAX_TRANSACTION_RETURN_TO} this keeps the transaction cookies a `/callback`
 * request carries under 4 KB together, however many logins another site starts.
 */
export const MAX_TRANSACTIONS = 4;

/**
 * Longest `returnTo` kept in a transaction cookie (characters, after normalisation); a longer one
 * is replaced by the app's home, so no single cookie grows past about 900 bytes.
 */
export const MAX_TRANSACTION_RETURN_TO = 512;

/** What the transaction cookies are made of (from `secret`, `session.name`, `appBaseUrl`, `routes.callback`, `transactionMaxAge`, `cache.max`). */
export interface TransactionCookieOptions {
  /** Secrets, newest first: the first seals, all open. */
  readonly secrets: readonly string[];
  /** Prefix of the slot cookies (`<session.name>_txn`). */
  readonly name: string;
  /** Path of the slot cookies: the callback route's. */
  readonly callbackPath: string;
  /** Path of the index cookie: the app's base path. */
  readonly indexPath: string;
  readonly secure: boolean;
  /** Seconds a login may take (`transactionMaxAge`). */
  readonly maxAge: number;
  /** Most used states remembered (`cache.max`). */
  readonly max: number;
}

/**
 * One short-lived encrypted cookie per login in progress, in one of {@link MAX_TRANSACTIONS} slots
 * (`<prefix>.0` … `<prefix>.3`), so several tabs can log in at once without overwriting each other
 * and no site can pile up cookies until the callback request is too large to be read. Scoped to
 * the callback path. The callback path cannot be seen from `/login`, so a small index cookie
 * (`<prefix>_slots`, slot numbers and expiry times, nothing secret, under 60 bytes, scoped to the
 * base path and deleted once no login is in progress) says which slots are taken; a new login
 * takes a free slot, or the one that expires first.
 */
export class TransactionCookie {
  private readonly sealer: Sealer;
  private readonly prefix: string;
  private readonly indexName: string;
  private readonly path: string;
  private readonly indexPath: string;
  /** States already consumed (by hash), so a replayed callback fails even if the cookie was kept. */
  private readonly used: LRUCache<string, number>;

  constructor(private readonly options: TransactionCookieOptions) {
    this.sealer = new Sealer(options.secrets, 'transaction');
    this.prefix = options.name;
    this.indexName = `${options.name}_slots`;
    this.path = options.callbackPath;
    this.indexPath = options.indexPath;
    this.used = new LRUCache({ max: options.max });
  }

  /** Marks a state as consumed; false when it already was. */
  private consume(state: string, until: number, now: number): boolean {
    const key = tokenHash(state);
    const seen = this.used.get(key);
    if (seen !== undefined && seen > now) return false;
    this.used.set(key, until);
    return true;
  }

  /** The live slots of the index cookie (slot -> expiry in seconds). A bad value reads as empty. */
  private slots(cookieHeader: string | undefined, nowSec: number): Map<number, number> {
    const out = new Map<number, number>();
    const raw = readCookies(cookieHeader, this.indexName)?.get(this.indexName);
    if (raw === undefined || raw.length > 100) return out;
    for (const part of raw.split('.')) {
      const m = /^(\d)-(\d{1,12})$/.exec(part);
      if (m === null) continue;
      const slot = Number(m[1]);
      const until = Number(m[2]);
      if (slot < MAX_TRANSACTIONS && until > nowSec && !out.has(slot)) out.set(slot, until);
    }
    return out;
  }

  /**
   * Starts a login: a fresh state, the Set-Cookie line that remembers it (in a free slot, else the
   * oldest) and the one that updates the slot index. `cookieHeader` is the `/login` request's.
   */
  begin(returnTo: string, now: number, cookieHeader?: string): { state: string; setCookie: string; index: string } {
    const nowSec = Math.floor(now / 1000);
    const taken = this.slots(cookieHeader, nowSec);
    let slot = 0;
    while (slot < MAX_TRANSACTIONS && taken.has(slot)) slot++;
    if (slot === MAX_TRANSACTIONS) slot = [...taken].sort((a, b) => a[1] - b[1] || a[0] - b[0])[0]![0];
    taken.set(slot, nowSec + this.options.maxAge);
    const index = this.indexCookie(taken, nowSec);

    const state = randomToken(STATE_BYTES);
    const sealed = this.sealer.seal(JSON.stringify({ s: state, r: returnTo, x: now + this.options.maxAge * 1000 }));
    const secure = this.options.secure;
    const setCookie = serializeCookie(`${this.prefix}.${slot}`, sealed, {
      maxAge: this.options.maxAge,
      path: this.path,
      secure,
    });
    return { state, setCookie, index };
  }

  /** The Set-Cookie line of the slot index (deleted when no slot is taken). */
  private indexCookie(taken: Map<number, number>, nowSec: number): string {
    const value = [...taken].map(([s, until]) => `${s}-${until}`).join('.');
    const maxAge = taken.size === 0 ? 0 : Math.max(...taken.values()) - nowSec;
    return serializeCookie(this.indexName, value, { maxAge, path: this.indexPath, secure: this.options.secure });
  }

  /**
   * Finds the transaction for a returned `state` among the slot cookies. `undefined` when none
   * opens with that state (compared in constant time), or it has expired or was already used.
   * Also returns the Set-Cookie line that deletes the matching cookie, and the one that frees its
   * slot in the index.
   */
  take(
    cookieHeader: string | undefined,
    state: string,
    now: number,
  ): { txn: Transaction | undefined; clear: string | undefined; index?: string } {
    const jar = readCookies(cookieHeader, this.prefix);
    if (jar === undefined) return { txn: undefined, clear: undefined };
    for (let slot = 0; slot < MAX_TRANSACTIONS; slot++) {
      const name = `${this.prefix}.${slot}`;
      const sealed = jar.get(name);
      if (sealed === undefined) continue;
      const data = this.open(sealed);
      if (data === undefined || !safeEqual(data.s, state)) continue;
      const clear = serializeCookie(name, '', { maxAge: 0, path: this.path, secure: this.options.secure });
      const nowSec = Math.floor(now / 1000);
      const taken = this.slots(cookieHeader, nowSec);
      taken.delete(slot);
      const index = this.indexCookie(taken, nowSec);
      if (data.x <= now || !this.consume(data.s, data.x, now)) return { txn: undefined, clear, index };
      return { txn: { state: data.s, returnTo: data.r }, clear, index };
    }
    return { txn: undefined, clear: undefined };
  }

  private open(sealed: string): { s: string; r: string; x: number } | undefined {
    const plain = this.sealer.open(sealed);
    if (plain === undefined) return undefined;
    try {
      const data = JSON.parse(plain) as { s?: unknown; r?: unknown; x?: unknown };
      if (typeof data.s !== 'string' || typeof data.r !== 'string' || typeof data.x !== 'number') return undefined;
      return { s: data.s, r: data.r, x: data.x };
    } catch {
      return undefined;
    }
  }
}
