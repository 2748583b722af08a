import { LRUCache } from 'lru-cache';
import { readCookies, serializeCookie, type CookieAttributes } from './cookies';
import { Sealer } from '../util/crypto';
import { SsoGuardError } from '../errors';

/**
 * A signed-in session: its tokens and their timing only. The user and the temporary keys come
 * from the check_token cache. Times are whole seconds since the epoch. (In the cookie the fields
 * have one-letter names, see `Wire` below; nowhere else.)
 */
export interface SessionData {
  /** Random session id, kept across refreshes (the revocation key). */
  readonly id: string;
  readonly accessToken: string;
  /** Absent when the issuer gives none (`iam_jwt`). */
  readonly refreshToken?: string;
  readonly tokenType: string;
  /** When the access token expires. */
  readonly expiresAt: number;
  /** The access token's lifetime in seconds (`expires_in`): it sets how early the token is refreshed. */
  readonly lifetime: number;
  /**
   * Sign-in time: the absolute lifetime counts from here. Seconds with the milliseconds as a
   * fraction (older cookies: whole seconds), so `revokeUser()` can tell a sign-in just after it.
   */
  readonly createdAt: number;
  /** Last time the cookie was written: the rolling lifetime counts from here. */
  readonly touchedAt: number;
}

/** What the cookie holds with server-side sessions: the id and the times; the tokens are in the store. */
export type SessionPointer = Pick<SessionData, 'id' | 'createdAt' | 'touchedAt'>;

/**
 * The session as the cookie serialises it. Short keys keep the cookie small (it travels on every
 * request): i id, a accessToken, r refreshToken, t tokenType, e expiresAt, l lifetime,
 * c createdAt, u touchedAt; p: 1 marks a server-side pointer (i, c, u only).
 */
interface Wire {
  i: string;
  a: string;
  r?: string;
  t: string;
  e: number;
  l: number;
  c: number;
  u: number;
}

function toWire(s: SessionData): Wire {
  const wire: Wire = {
    i: s.id,
    a: s.accessToken,
    t: s.tokenType,
    e: s.expiresAt,
    l: s.lifetime,
    c: s.createdAt,
    u: s.touchedAt,
  };
  if (s.refreshToken !== undefined) wire.r = s.refreshToken;
  return wire;
}

function fromWire(w: Wire): SessionData {
  return {
    id: w.i,
    accessToken: w.a,
    ...(w.r === undefined ? {} : { refreshToken: w.r }),
    tokenType: w.t,
    expiresAt: w.e,
    lifetime: w.l,
    createdAt: w.c,
    touchedAt: w.u,
  };
}

/** Browsers keep about 4096 bytes per cookie, name and attributes included. */
const CHUNK_SIZE = 3900;
/**
 * Most chunks a session cookie may have, for the writer and the reader alike. With the transaction
 * cookies (under 4 KB) this keeps a `/callback` request well under Node's 16 KB header limit.
 * Larger sessions are refused at sign-in (use `session.serverSide` with a store).
 */
export const MAX_SESSION_CHUNKS = 2;
/** Longest sealed session the cookie can hold, in characters. */
export const MAX_SEALED_SESSION = CHUNK_SIZE * MAX_SESSION_CHUNKS;

/** The result of reading the session cookie of a request. */
export interface SessionRead {
  /** The session, when a cookie opened and parsed; undefined for no cookie or a bad one. */
  data: SessionData | undefined;
  /** With server-side sessions: the id and times the cookie holds (the tokens are in the store). */
  pointer?: SessionPointer;
  /** Names of the session cookies the request carried (to clear stale chunks). */
  names: readonly string[];
  /** True when the cookie was sealed with an older secret and should be resealed. */
  stale: boolean;
}

const NONE: SessionRead = Object.freeze({
  data: undefined,
  names: Object.freeze([]) as readonly string[],
  stale: false,
});

function isPointer(v: unknown): v is Pick<Wire, 'i' | 'c' | 'u'> & { p: 1 } {
  const s = v as Record<string, unknown> | null;
  return (
    s !== null &&
    typeof s === 'object' &&
    s.p === 1 &&
    typeof s.i === 'string' &&
    s.i !== '' &&
    Number.isFinite(s.c) &&
    Number.isFinite(s.u)
  );
}

function isSession(v: unknown): v is Wire {
  if (v === null || typeof v !== 'object') return false;
  const s = v as Record<string, unknown>;
  return (
    typeof s.i === 'string' &&
    s.i !== '' &&
    typeof s.a === 'string' &&
    s.a !== '' &&
    (s.r === undefined || (typeof s.r === 'string' && s.r !== '')) &&
    typeof s.t === 'string' &&
    Number.isFinite(s.e) &&
    Number.isFinite(s.l) &&
    Number.isFinite(s.c) &&
    Number.isFinite(s.u)
  );
}

/**
 * The value of the one cookie of a Cookie header named `name` or `name.<anything>`, when there is
 * exactly one and it is `name` itself (the usual, unchunked session); otherwise undefined, and the
 * header is read in full by `readCookies`. Parses as `readCookies` does, without building a Map.
 */
function soleCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined || header.indexOf(name) === -1) return undefined;
  const len = header.length;
  let value: string | undefined;
  let pos = 0;
  // As in readCookies: the next "=" is searched again only once passed (linear in every header).
  let eq = -1;
  while (pos < len) {
    let end = header.indexOf(';', pos);
    if (end === -1) end = len;
    if (eq < pos && eq !== len) {
      eq = header.indexOf('=', pos);
      if (eq === -1) eq = len;
    }
    if (eq < end) {
      let ns = pos;
      while (ns < eq && (header.charCodeAt(ns) === 32 || header.charCodeAt(ns) === 9)) ns++;
      let ne = eq;
      while (ne > ns && (header.charCodeAt(ne - 1) === 32 || header.charCodeAt(ne - 1) === 9)) ne--;
      if (
        ne - ns >= name.length &&
        header.startsWith(name, ns) &&
        (ne - ns === name.length || header.charCodeAt(ns + name.length) === 46)
      ) {
        // A second session cookie, or a chunk: the general reader decides.
        if (value !== undefined || ne - ns !== name.length) return undefined;
        value = header.slice(eq + 1, end).trim();
        if (value.length > 1 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34)
          value = value.slice(1, -1);
      }
    }
    pos = end + 1;
  }
  return value;
}

/** What the session cookie is made of (from the options `secret`, `session.*`, `appBaseUrl`, `cache.max`). */
export interface SessionCookieOptions {
  /** Secrets, newest first: the first seals, all open. */
  readonly secrets: readonly string[];
  /** The cookie name (`session.name`); chunks are `name.0`, `name.1`. */
  readonly name: string;
  readonly path: string;
  readonly secure: boolean;
  readonly domain?: string;
  /** Seconds (`session.rollingDuration`). */
  readonly rollingDuration: number;
  /** Seconds (`session.absoluteDuration`). */
  readonly absoluteDuration: number;
  /** The cookie holds a pointer, the tokens are in the store (`session.serverSide`). */
  readonly serverSide: boolean;
  /** Most opened sessions remembered (`cache.max`). */
  readonly max: number;
}

/** Seals, opens, chunks and clears the session cookie. */
export class SessionCookie {
  private readonly sealer: Sealer;
  private readonly name: string;
  private readonly attrs: Omit<CookieAttributes, 'maxAge'>;
  /**
   * Sessions already opened, by their sealed text: a browser sends the same cookie on every
   * request, and decrypting, parsing and checking it again would give the same (frozen) session.
   * Only cookies that opened are kept, so forged ones cannot fill it; bounded like the check_token
   * cache, whose entries these sessions point to.
   */
  private readonly opened: LRUCache<string, SessionRead>;
  /** `names` of a request carrying the session cookie alone, unchunked (shared, frozen). */
  private readonly soleNames: readonly string[];

  constructor(private readonly options: SessionCookieOptions) {
    this.sealer = new Sealer(options.secrets, 'session');
    this.name = options.name;
    this.attrs = { path: options.path, secure: options.secure, domain: options.domain };
    this.opened = new LRUCache({ max: options.max });
    this.soleNames = Object.freeze([this.name]);
  }

  /**
   * Reads the session from a Cookie header. A cookie that does not open reads as signed out.
   * A returning cookie (already opened) costs one scan of the header and one cache lookup, and
   * the answer is the same frozen object each time when the header carries it alone, unchunked.
   */
  read(cookieHeader: string | undefined): SessionRead {
    const sole = soleCookie(cookieHeader, this.name);
    if (sole !== undefined) return this.opened.get(sole) ?? this.open(sole, this.soleNames);
    const jar = readCookies(cookieHeader, this.name);
    if (jar === undefined) return NONE;
    const names = [...jar.keys()];
    let sealed = jar.get(this.name);
    if (sealed === undefined) {
      // Chunks must run 0..n-1 without gaps; anything else is not a session we wrote.
      const parts: string[] = [];
      for (let i = 0; i <= MAX_SESSION_CHUNKS; i++) {
        const part = jar.get(`${this.name}.${i}`);
        if (part === undefined) break;
        parts.push(part);
      }
      // More chunks than the writer ever writes is not a session we wrote.
      if (parts.length === 0 || parts.length > MAX_SESSION_CHUNKS) return { data: undefined, names, stale: false };
      sealed = parts.join('');
    }
    const known = this.opened.get(sealed) ?? this.open(sealed, names);
    return known.names === names ? known : { data: known.data, pointer: known.pointer, names, stale: known.stale };
  }

  /**
   * Opens a sealed session. One that opens is remembered (frozen, with `names` the sole cookie's)
   * by its sealed text; one that does not is not, so forged cookies cannot fill the cache.
   */
  private open(sealed: string, names: readonly string[]): SessionRead {
    const plain = this.sealer.open(sealed);
    if (plain === undefined) return { data: undefined, names, stale: false };
    let data: unknown;
    try {
      data = JSON.parse(plain);
    } catch {
      return { data: undefined, names, stale: false };
    }
    let opened: SessionRead;
    if (this.options.serverSide && isPointer(data)) {
      const pointer = Object.freeze({ id: data.i, createdAt: data.c, touchedAt: data.u });
      opened = Object.freeze({ data: undefined, pointer, names: this.soleNames, stale: this.sealer.isStale(sealed) });
    } else if (isSession(data)) {
      opened = Object.freeze({
        data: Object.freeze(fromWire(data)),
        names: this.soleNames,
        stale: this.sealer.isStale(sealed),
      });
    } else {
      return { data: undefined, names, stale: false };
    }
    this.opened.set(sealed, opened);
    return names === this.soleNames
      ? opened
      : { data: opened.data, pointer: opened.pointer, names, stale: opened.stale };
  }

  /**
   * Set-Cookie lines that store `data`, chunked past the cookie size limit, and clear whichever
   * of the request's session cookies the new set does not overwrite. Throws `upstream_error` (502)
   * when the sealed session is over {@link MAX_SEALED_SESSION}.
   */
  serialize(data: SessionData, nowSec: number, previous: readonly string[]): string[] {
    const maxAge = Math.floor(
      Math.min(this.options.rollingDuration, data.createdAt + this.options.absoluteDuration - nowSec),
    );
    // Server-side sessions keep the tokens in the store; the cookie only points to them.
    const payload = this.options.serverSide ? { i: data.id, c: data.createdAt, u: data.touchedAt, p: 1 } : toWire(data);
    const sealed = this.sealer.seal(JSON.stringify(payload));
    // Never write what the reader would refuse (a sign-in loop): fail before any cookie is set.
    if (sealed.length > MAX_SEALED_SESSION) {
      throw new SsoGuardError(
        'upstream_error',
        `The SSO's tokens are too large for a session cookie (${sealed.length} characters sealed, at most ${MAX_SEALED_SESSION}); use session.serverSide with a store`,
      );
    }
    const out: string[] = [];
    const written = new Set<string>();
    if (sealed.length <= CHUNK_SIZE) {
      out.push(serializeCookie(this.name, sealed, { ...this.attrs, maxAge }));
      written.add(this.name);
    } else {
      for (let i = 0, n = 0; i < sealed.length; i += CHUNK_SIZE, n++) {
        const name = `${this.name}.${n}`;
        out.push(serializeCookie(name, sealed.slice(i, i + CHUNK_SIZE), { ...this.attrs, maxAge }));
        written.add(name);
      }
    }
    for (const name of previous)
      if (!written.has(name)) out.push(serializeCookie(name, '', { ...this.attrs, maxAge: 0 }));
    return out;
  }

  /** Set-Cookie lines that delete every session cookie the request carried. */
  clear(previous: readonly string[]): string[] {
    return previous.map((name) => serializeCookie(name, '', { ...this.attrs, maxAge: 0 }));
  }
}
