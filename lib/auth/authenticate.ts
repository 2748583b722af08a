import createDebug from 'debug';
import type { Config } from '../config';
import type { CacheEntry, CredentialCache } from '../sso/check-token-cache';
import { tokenHash } from '../util/crypto';
import { SsoGuardError } from '../errors';
import type { RefreshCoordinator } from '../sso/refresh-coordinator';
import type { Revocations } from '../session/revocations';
import type { ServerSessions } from '../session/server-sessions';
import type { Shared } from '../store/shared-store';
import type { SessionCookie, SessionData, SessionRead } from '../session/session-cookie';
import type { CheckResult } from '../sso/sso-client';
import type { SessionEndReason } from '../telemetry/events';
import { BearerAuthorizer } from './bearer-authorize';

const debug = createDebug('express-sso-guard:session');

/** The result of authenticating one request. Express-agnostic: the middleware applies it. */
export interface Outcome {
  /** The check_token answer when the request is authenticated. */
  readonly result: CheckResult | undefined;
  /** The session (possibly refreshed) when authenticated through the cookie. */
  readonly session: SessionData | undefined;
  /** The access token of a Bearer-authenticated request (cookie sessions carry theirs in `session`). */
  readonly bearerToken?: string;
  /** Set-Cookie lines to send (new session, cleared cookies), when anything changed. */
  readonly setCookie: string[] | undefined;
  /** An upstream failure: the session is kept, but the request cannot be authenticated now. */
  readonly error: SsoGuardError | undefined;
  /** Why an unauthenticated request is unauthenticated, for the 401 answer. */
  readonly reason: 'none' | 'ended' | 'invalid_token' | 'forbidden';
}

const ANONYMOUS: Outcome = Object.freeze({ result: undefined, session: undefined, setCookie: undefined, error: undefined, reason: 'none' });

function authenticated(result: CheckResult, session: SessionData | undefined, setCookie?: string[]): Outcome {
  return { result, session, setCookie, error: undefined, reason: 'none' };
}

/**
 * Turns a request's session cookie (or Bearer token) into an {@link Outcome}. Returns synchronously
 * on the hot path (valid cookie, cached check_token, nothing to rewrite); a Promise otherwise.
 */
export class Authenticator {
  private readonly clock: () => number;
  private readonly absolute: number;
  private readonly rolling: number;
  /** Seconds between rewrites of an unchanged cookie to extend its rolling lifetime. */
  private readonly touchAfter: number;
  /**
   * Access-token hash of each session object the cookie reader handed out. It keeps opened
   * sessions (the same frozen object for the same cookie), so the hash of a returning cookie is
   * computed once, not on every request; entries go when their session object does.
   */
  private readonly hashes = new WeakMap<SessionData, string>();
  /** The `authorize` option for Bearer tokens, when set. */
  private readonly authorizer: BearerAuthorizer | undefined;

  constructor(
    private readonly config: Config,
    private readonly sessions: SessionCookie,
    private readonly cache: CredentialCache,
    private readonly refresher: RefreshCoordinator,
    private readonly revocations: Revocations,
    private readonly shared?: Shared,
    private readonly server?: ServerSessions,
  ) {
    this.clock = config.clock;
    this.absolute = config.session.absoluteDuration;
    this.rolling = config.session.rollingDuration;
    this.touchAfter = Math.min(this.rolling / 10, 3600);
    this.authorizer = config.authorize === undefined ? undefined : new BearerAuthorizer(config.authorize, config.cache.max);
  }

  run(cookieHeader: string | undefined, authorization: string | undefined, req?: unknown): Outcome | Promise<Outcome> {
    const now = this.clock();
    const read = this.sessions.read(cookieHeader);
    let s = read.data;
    if (s === undefined) {
      if (read.pointer !== undefined && this.server !== undefined) {
        const tokens = this.server.peek(read.pointer.i, now);
        if (tokens === undefined) return this.loadServerSession(read, now);
        s = { ...tokens, ...read.pointer };
      } else {
        const clear = read.names.length > 0 ? this.sessions.clear(read.names) : undefined;
        if (authorization !== undefined && this.config.bearer) return this.bearer(authorization, now, clear, req);
        return clear === undefined ? ANONYMOUS : { ...ANONYMOUS, setCookie: clear };
      }
    }
    return this.check(s, read, now);
  }

  /** A server-side session missing from the first level: its tokens from the store, then on. */
  private async loadServerSession(read: SessionRead, now: number): Promise<Outcome> {
    const pointer = read.pointer!;
    let tokens;
    try {
      tokens = await this.server!.load(pointer.i, now);
    } catch (err) {
      if (err instanceof SsoGuardError) return { ...ANONYMOUS, error: err };
      throw err;
    }
    if (tokens === undefined) return this.end(read.names, 'server-side session not found', 'not_found');
    return this.check({ ...tokens, ...pointer }, read, now);
  }

  /** The session's lifetimes, revocation, cached check and refresh, once the session is known. */
  private check(s: SessionData, read: SessionRead, now: number): Outcome | Promise<Outcome> {
    const nowSec = Math.floor(now / 1000);
    if (nowSec >= s.c + this.absolute || nowSec >= s.u + this.rolling) return this.end(read.names, 'session lifetime over', 'lifetime');
    if (this.revocations.has(s.i, now)) return this.end(read.names, 'session was logged out', 'revoked');
    let hash = this.hashes.get(s);
    if (hash === undefined) {
      hash = tokenHash(s.a);
      this.hashes.set(s, hash);
    }
    const entry = this.cache.peek(hash, now);
    const refreshDue = nowSec >= s.e - Math.min(s.l / 10, 60);
    if (!refreshDue && entry?.kind === 'valid') {
      if (!read.stale && nowSec - s.u < this.touchAfter) return authenticated(entry.result, s);
      const touched = { ...s, u: nowSec };
      return authenticated(entry.result, touched, this.sessions.serialize(touched, nowSec, read.names));
    }
    return this.slow(s, hash, entry, read, now, refreshDue);
  }

  private async slow(s: SessionData, hash: string, entry: CacheEntry | undefined, read: SessionRead, now: number, refreshDue: boolean): Promise<Outcome> {
    const nowSec = Math.floor(now / 1000);
    const names = read.names;
    let session = s;
    let refreshed = false;
    /** An early refresh that failed upstream: not retried within this request. */
    let earlyFailure: SsoGuardError | undefined;
    try {
      // First level missed: a logout on another instance may be known only to the store.
      if (this.shared !== undefined && (await this.shared.get(`revoked:${s.i}`)) !== undefined) {
        this.revocations.add(s.i, (s.c + this.absolute) * 1000);
        return this.end(names, 'session was logged out (shared)', 'revoked');
      }
      if (refreshDue) {
        if (s.r !== undefined) {
          try {
            session = await this.renew(s, nowSec);
            refreshed = true;
          } catch (err) {
            // Refreshing early failed upstream while the token is still valid: use it meanwhile.
            if (!(err instanceof SsoGuardError) || err.code === 'refresh_rejected' || nowSec >= s.e) throw err;
            debug('early refresh failed (%s); token still valid', err.code);
            earlyFailure = err;
          }
        } else if (nowSec >= s.e) {
          return this.end(names, 'access token expired and no refresh token', 'expired');
        }
      }
      if (refreshed) hash = tokenHash(session.a);
      if (refreshed || entry === undefined) entry = await this.cache.lookup(hash, session.a, session.e * 1000);
      if (entry.kind === 'invalid' && !refreshed && session.r !== undefined) {
        // One refresh attempt per request: a second would double the wait on a failing SSO.
        if (earlyFailure !== undefined) throw earlyFailure;
        debug('check_token rejected the access token: refreshing');
        session = await this.renew(session, nowSec);
        refreshed = true;
        entry = await this.cache.lookup(tokenHash(session.a), session.a, session.e * 1000);
      }
      if (entry.kind !== 'valid') return this.end(names, 'access token rejected', 'refused');
      if (!refreshed && !read.stale && nowSec - session.u < this.touchAfter) return authenticated(entry.result, session);
      const next = { ...session, u: nowSec };
      return authenticated(entry.result, next, this.sessions.serialize(next, nowSec, names));
    } catch (err) {
      if (err instanceof SsoGuardError) {
        if (err.code === 'refresh_rejected') return this.end(names, 'refresh token rejected', 'refused');
        // Transient: keep the session (no Set-Cookie), fail this request only.
        debug('upstream failure, session kept: %s', err.code);
        return { ...ANONYMOUS, error: err };
      }
      throw err;
    }
  }

  /**
   * A fresh check_token answer (skipping the cache), for callers whose temporary credentials
   * expired. When the SSO rejects the access token and the session has a refresh token, the
   * session is refreshed (coalesced like any refresh) and `session`/`setCookie` carry the result.
   */
  async fresh(accessToken: string, session: SessionData | undefined, names: readonly string[]): Promise<{ result: CheckResult; session?: SessionData; setCookie?: string[] }> {
    const now = this.clock();
    const expiresAt = session === undefined ? now + this.config.cache.ttl * 1000 : session.e * 1000;
    const entry = await this.cache.lookup(tokenHash(accessToken), accessToken, expiresAt, true);
    if (entry.kind === 'valid') return { result: entry.result };
    if (session?.r === undefined) throw new SsoGuardError('unauthenticated', 'Session expired; sign in again');
    const nowSec = Math.floor(now / 1000);
    const next = await this.renew(session, nowSec);
    const renewed = await this.cache.lookup(tokenHash(next.a), next.a, next.e * 1000);
    if (renewed.kind !== 'valid') throw new SsoGuardError('unauthenticated', 'Session expired; sign in again');
    return { result: renewed.result, session: next, setCookie: this.sessions.serialize(next, nowSec, names) };
  }

  /**
   * Logs a session out: it is refused from now on until it would have expired anyway, here and
   * (with a shared store) on every instance, and its cached check_token answer is dropped.
   */
  async revoke(s: SessionData): Promise<void> {
    const until = (s.c + this.absolute) * 1000;
    this.config.telemetry.sessionEnded('logout', this.cache.userOf(tokenHash(s.a), this.clock()));
    await this.revokeId(s.i, until);
    await this.cache.forget(tokenHash(s.a));
    debug('session revoked');
  }

  /**
   * Refuses a session id from now until `until` (ms) here, and on every instance: the denylist
   * entry, its event and the deletion of server-side tokens are queued and retried while the store
   * is unreachable, so a logout made during an outage still reaches everyone once it is back.
   */
  private async revokeId(id: string, until: number): Promise<void> {
    this.revocations.add(id, until);
    await this.shared?.writeDurably([{ put: `revoked:${id}`, value: 1, ttlMs: until - this.clock() }, { publish: { kind: 'revoke', sessionId: id, until } }]);
    await this.server?.delete(id);
  }

  /** Refreshes (or adopts a remembered refresh of) a session's tokens. */
  private async renew(s: SessionData, nowSec: number): Promise<SessionData> {
    const { tokens, issuedAt } = await this.refresher.refresh(tokenHash(s.r!), s.a, s.r!);
    const issuedSec = Math.floor(issuedAt / 1000);
    const next: SessionData = {
      i: s.i,
      a: tokens.accessToken,
      // No refresh token in the answer: the SSO did not rotate it, the old one stays valid.
      r: tokens.refreshToken ?? s.r,
      t: tokens.tokenType,
      e: issuedSec + tokens.expiresIn,
      l: tokens.expiresIn,
      c: s.c,
      u: nowSec,
    };
    // A refresh answer that carried the keys and user stands for the new token's check_token.
    if (tokens.check !== undefined) await this.cache.seed(tokenHash(next.a), tokens.check, next.e * 1000);
    await this.server?.save(next, this.clock(), (s.c + this.absolute) * 1000, true);
    return next;
  }

  /** Starts a session (after the code exchange): Set-Cookie lines, and the tokens in the store with server-side sessions. */
  async begin(s: SessionData, names: readonly string[]): Promise<string[]> {
    await this.server?.save(s, this.clock(), (s.c + this.absolute) * 1000);
    return this.sessions.serialize(s, s.c, names);
  }

  /** Revokes the session a Cookie header carries, if any (logout). Returns the cookie names to clear. */
  async revokeCookie(cookieHeader: string | undefined): Promise<readonly string[]> {
    const read = this.sessions.read(cookieHeader);
    let s = read.data;
    if (s === undefined && read.pointer !== undefined && this.server !== undefined) {
      const now = this.clock();
      const tokens = this.server.peek(read.pointer.i, now) ?? (await this.server.load(read.pointer.i, now).catch(() => undefined));
      // Without the tokens (store down), still revoke the id: the session cannot come back.
      s = tokens === undefined ? undefined : { ...tokens, ...read.pointer };
      if (s === undefined) {
        this.config.telemetry.sessionEnded('logout');
        await this.revokeId(read.pointer.i, (read.pointer.c + this.absolute) * 1000);
      }
    }
    if (s !== undefined) await this.revoke(s);
    return read.names;
  }

  private bearer(authorization: string, now: number, clear: string[] | undefined, req: unknown): Outcome | Promise<Outcome> {
    if (authorization.length < 8 || authorization.length > 8192 || !/^bearer /i.test(authorization)) {
      return clear === undefined ? ANONYMOUS : { ...ANONYMOUS, setCookie: clear };
    }
    const token = authorization.slice(7).trim();
    const hash = tokenHash(token);
    const hit = this.cache.peek(hash, now);
    const done = (entry: CacheEntry): Outcome =>
      entry.kind === 'valid' ? { ...authenticated(entry.result, undefined, clear), bearerToken: token } : { ...ANONYMOUS, setCookie: clear, reason: 'invalid_token' };
    const forbidden = (): Outcome => ({ ...ANONYMOUS, setCookie: clear, reason: 'forbidden' });
    if (hit !== undefined) return this.authorizer?.refused(hash, now) === true ? forbidden() : done(hit);
    const decide = this.authorizer === undefined ? done : this.authorizer.gate(hash, req, done, forbidden);
    return this.cache.lookup(hash, token, now + this.config.cache.ttl * 1000, false, true).then(decide, (err: unknown) => {
      if (err instanceof SsoGuardError) return { ...ANONYMOUS, setCookie: clear, error: err };
      throw err;
    });
  }

  /**
   * The check_token answer of a session's new access token at sign-in (cached, so the first page
   * makes no call of its own), for `authorize` and the `login` event. Throws an SsoGuardError.
   */
  async signInCheck(accessToken: string, expiresAt: number): Promise<CheckResult> {
    const entry = await this.cache.lookup(tokenHash(accessToken), accessToken, expiresAt);
    if (entry.kind !== 'valid') throw new SsoGuardError('upstream_error', 'The SSO did not accept the access token it just issued');
    return entry.result;
  }

  private end(names: readonly string[], why: string, reason: SessionEndReason): Outcome {
    debug('session ended: %s', why);
    this.config.telemetry.sessionEnded(reason);
    return { ...ANONYMOUS, setCookie: this.sessions.clear(names), reason: 'ended' };
  }
}
