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
  /** Path of the slot cookies: the callback route's (`/` for a `__Host-` name). */
  readonly callbackPath: string;
  /** Path of the index cookie: the app's base path (`/` for a `__Host-` name). */
  readonly indexPath: string;
  readonly secure: boolean;
  /** Seconds a login may take (`transactionMaxAge`). */
  readonly maxAge: number;
  /** Most used states remembered (`cache.max`). */
  readonly max: number;
}

/** Random bytes of a slot id (8 base64url characters): two logins started at once never share one. */
const SLOT_ID_BYTES = 6;
const SLOT_ENTRY = /^([A-Za-z0-9_-]{8})-(\d{1,12})$/;
/** Most transaction cookies a callback opens (a Cookie header cannot hold many more of them). */
const MAX_OPENED = 16;

/**
 * One short-lived encrypted cookie per login in progress, named by a random slot id
 * (`<prefix>.<id>`), so several tabs can log in at once, even two started at the same moment
 * (a restored browser session), without overwriting each other. Bounded: at most
 * {@link MAX_TRANSACTIONS} are kept, so no site can pile up cookies until the callback request is
 * too large to be read. Scoped to the callback path (`/` for a `__Host-` name). The callback path
 * cannot be seen from `/login`, so a small index cookie (`<prefix>_slots`, slot ids and expiry
 * times, nothing secret, under 80 bytes, scoped to the base path and deleted once no login is in
 * progress) lists the slots; a new login past the bound deletes the one that expires first. Two
 * logins started at once may each write the index without the other's slot: the callback, which
 * sees every transaction cookie, rebuilds the index from them and deletes any past the bound.
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

  /** The live slots of the index cookie (slot id -> expiry in seconds). A bad value reads as empty. */
  private slots(cookieHeader: string | undefined, nowSec: number): Map<string, number> {
    const out = new Map<string, number>();
    const raw = readCookies(cookieHeader, this.indexName)?.get(this.indexName);
    if (raw === undefined || raw.length > 120) return out;
    for (const part of raw.split('.')) {
      const m = SLOT_ENTRY.exec(part);
      if (m === null) continue;
      const until = Number(m[2]);
      if (until > nowSec && out.size < MAX_TRANSACTIONS) out.set(m[1]!, until);
    }
    return out;
  }

  /** Keeps the {@link MAX_TRANSACTIONS} slots that expire last; returns the Set-Cookie lines deleting the others. */
  private bound(taken: Map<string, number>, max: number): string[] {
    const drop: string[] = [];
    while (taken.size > max) {
      const [oldest] = [...taken].sort((a, b) => a[1] - b[1])[0]!;
      taken.delete(oldest);
      drop.push(this.clearSlot(oldest));
    }
    return drop;
  }

  private clearSlot(id: string): string {
    return serializeCookie(`${this.prefix}.${id}`, '', {
      maxAge: 0,
      path: this.path,
      secure: this.options.secure,
    });
  }

  /**
   * Starts a login: a fresh state, the Set-Cookie line that remembers it (in a new random slot),
   * the one that updates the slot index, and those deleting the slots past the bound (the ones
   * that expire first). `cookieHeader` is the `/login` request's.
   */
  begin(
    returnTo: string,
    now: number,
    cookieHeader?: string,
  ): { state: string; setCookie: string; index: string; drop: string[] } {
    const nowSec = Math.floor(now / 1000);
    const taken = this.slots(cookieHeader, nowSec);
    const drop = this.bound(taken, MAX_TRANSACTIONS - 1);
    const slot = randomToken(SLOT_ID_BYTES);
    taken.set(slot, nowSec + this.options.maxAge);
    const index = this.indexCookie(taken, nowSec);

    const state = randomToken(STATE_BYTES);
    const sealed = this.sealer.seal(JSON.stringify({ s: state, r: returnTo, x: now + this.options.maxAge * 1000 }));
    const setCookie = serializeCookie(`${this.prefix}.${slot}`, sealed, {
      maxAge: this.options.maxAge,
      path: this.path,
      secure: this.options.secure,
    });
    return { state, setCookie, index, drop };
  }

  /** The Set-Cookie line of the slot index (deleted when no slot is taken). */
  private indexCookie(taken: Map<string, number>, nowSec: number): string {
    const value = [...taken].map(([s, until]) => `${s}-${until}`).join('.');
    const maxAge = taken.size === 0 ? 0 : Math.max(...taken.values()) - nowSec;
    return serializeCookie(this.indexName, value, { maxAge, path: this.indexPath, secure: this.options.secure });
  }

  /**
   * Finds the transaction for a returned `state` among the slot cookies. `undefined` when none
   * opens with that state (compared in constant time), or it has expired or was already used.
   * Also returns the Set-Cookie lines that delete the matching cookie (and any past the bound),
   * and the slot index rebuilt from the transaction cookies this request carries.
   */
  take(
    cookieHeader: string | undefined,
    state: string,
    now: number,
  ): { txn: Transaction | undefined; clear: string[] | undefined; index?: string } {
    const jar = readCookies(cookieHeader, this.prefix);
    if (jar === undefined) return { txn: undefined, clear: undefined };
    const nowSec = Math.floor(now / 1000);
    const live = new Map<string, number>();
    let found: { slot: string; data: { s: string; r: string; x: number } } | undefined;
    let opened = 0;
    for (const [name, sealed] of jar) {
      const slot = name.slice(this.prefix.length + 1);
      if (name.length === this.prefix.length || !/^[A-Za-z0-9_-]{8}$/.test(slot) || opened++ >= MAX_OPENED) continue;
      const data = this.open(sealed);
      if (data === undefined) continue;
      if (found === undefined && safeEqual(data.s, state)) found = { slot, data };
      else if (data.x > now) live.set(slot, Math.ceil(data.x / 1000));
    }
    if (found === undefined) return { txn: undefined, clear: undefined };
    const clear = [this.clearSlot(found.slot), ...this.bound(live, MAX_TRANSACTIONS)];
    const index = this.indexCookie(live, nowSec);
    const { data } = found;
    if (data.x <= now || !this.consume(data.s, data.x, now)) return { txn: undefined, clear, index };
    return { txn: { state: data.s, returnTo: data.r }, clear, index };
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
