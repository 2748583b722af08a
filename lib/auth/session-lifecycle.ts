import createDebug from 'debug';
import type { CheckTokenCache } from '../sso/check-token-cache';
import type { CheckResult } from '../sso/types';
import type { Revocations } from '../session/revocations';
import { userKeyOf, userRevocationWrites, type UserRevocations } from '../session/user-revocations';
import type { SsoUser } from '../sso/types';
import type { ServerSessions, StoredTokens } from '../session/server-sessions';
import type { SessionCookie, SessionData, SessionPointer, SessionRead } from '../session/session-cookie';
import type { Shared } from '../store/shared-store';
import { tokenHash } from '../util/crypto';
import { ANONYMOUS, authenticated, type Outcome } from './outcome';
import type { RewriteCause, SessionPolicy } from './session-policy';
import type { SessionEndReason } from '../telemetry/events';
import type { Telemetry } from '../telemetry/telemetry';

const debug = createDebug('express-sso-guard:session');

/** The parts a session's lifecycle works with. */
export interface SessionLifecycleParts {
  readonly policy: SessionPolicy;
  readonly cookies: SessionCookie;
  readonly cache: CheckTokenCache;
  readonly revocations: Revocations;
  /** Per-user not-before times (`revokeUser`). */
  readonly users: UserRevocations;
  readonly clock: () => number;
  readonly telemetry: Telemetry;
  /** The shared store's view (revocations on every instance), when a store is configured. */
  readonly shared?: Shared;
  /** Server-side tokens (option `session.serverSide`). */
  readonly server?: ServerSessions;
}

/**
 * A session from sign-in to logout: starts it, writes its cookie when the policy says so (touch,
 * reseal, renewal), keeps server-side tokens, ends and revokes it, here and (with a store) on
 * every instance. Knows nothing of the SSO: renewal is CredentialRenewal's job.
 */
export class SessionLifecycle {
  /** The last unchanged-session outcome of each session object, reused while its check_token answer is. */
  private readonly settled = new WeakMap<SessionData, Outcome>();

  readonly policy: SessionPolicy;
  readonly cookies: SessionCookie;
  readonly telemetry: Telemetry;
  private readonly cache: CheckTokenCache;
  private readonly revocations: Revocations;
  private readonly users: UserRevocations;
  private readonly clock: () => number;
  private readonly shared: Shared | undefined;
  private readonly server: ServerSessions | undefined;

  constructor(parts: SessionLifecycleParts) {
    this.policy = parts.policy;
    this.cookies = parts.cookies;
    this.telemetry = parts.telemetry;
    this.cache = parts.cache;
    this.revocations = parts.revocations;
    this.users = parts.users;
    this.clock = parts.clock;
    this.shared = parts.shared;
    this.server = parts.server;
  }

  /**
   * Keeps a server-side session's (new) tokens in the store until its absolute end; `writeBehind`
   * (refreshed tokens) queues the write while the store is unreachable (the request still fails).
   */
  async keep(s: SessionData, options: { writeBehind: boolean }): Promise<void> {
    await this.server?.save(s, this.clock(), this.policy.absoluteEnd(s) * 1000, options.writeBehind);
  }

  /**
   * The authenticated outcome of a session: the cookie is written only when
   * {@link SessionPolicy.needsRewrite} says so, with `touchedAt` moved to now.
   */
  settle(result: CheckResult, s: SessionData, nowSec: number, names: readonly string[], cause: RewriteCause): Outcome {
    if (!this.policy.needsRewrite(s, nowSec, cause)) {
      // Nothing to write: the same frozen outcome for the same session and check_token answer.
      const known = this.settled.get(s);
      if (known !== undefined && known.result === result && known.cookieNames === names) return known;
      const outcome = Object.freeze(authenticated(result, s, names));
      this.settled.set(s, outcome);
      return outcome;
    }
    const touched = { ...s, touchedAt: nowSec };
    return authenticated(result, touched, names, this.cookies.serialize(touched, nowSec, names));
  }

  /** Ends a session for this request: its cookies cleared. */
  end(names: readonly string[], why: string, reason: SessionEndReason, userId?: string): Outcome {
    debug('session ended: %s', why);
    this.telemetry.sessionEnded(reason, userId);
    return { ...ANONYMOUS, cookieNames: names, setCookie: this.cookies.clear(names), reason: 'ended' };
  }

  /** Server-side tokens from the in-process first level, without a store call. */
  peekTokens(pointer: SessionPointer, now: number): StoredTokens | undefined {
    return this.server?.peek(pointer.id, now);
  }

  /** Server-side tokens from the store: `undefined` when it has none; rejects `upstream_unavailable` when it cannot answer. */
  loadTokens(pointer: SessionPointer, now: number): Promise<StoredTokens | undefined> {
    return this.server === undefined ? Promise.resolve(undefined) : this.server.load(pointer.id, now);
  }

  /** Logged out here (the in-process revocation list). */
  revokedHere(s: SessionData, now: number): boolean {
    return this.revocations.has(s.id, now);
  }

  /** Logged out on another instance, as far as the store knows (remembered here when so). */
  async revokedElsewhere(s: SessionData): Promise<boolean> {
    if (this.shared === undefined || (await this.shared.get(`revoked:${s.id}`)) === undefined) return false;
    this.revocations.add(s.id, this.policy.absoluteEnd(s) * 1000);
    return true;
  }

  /** Signed in before a `revokeUser()` of its user known here (one size check when there is none). */
  userRevokedHere(user: SsoUser, s: SessionData): boolean {
    return this.users.refuses(user, s.createdAt);
  }

  /**
   * Signed in before a `revokeUser()` the store knows of (made on another instance, maybe before
   * this one started or while it missed the message). The store is asked at most once per user
   * per `localTtl`; without a store, only what is known here counts.
   */
  async userRevokedElsewhere(user: SsoUser, s: SessionData): Promise<boolean> {
    await this.learnUser(this.users.keyOf(user));
    return this.users.refuses(user, s.createdAt);
  }

  /** Asks the store for a user's not-before time (at most once per user per `localTtl`), remembered here. */
  private async learnUser(key: string): Promise<void> {
    const { shared } = this;
    if (shared === undefined || !this.users.shouldAsk(key, this.clock(), shared.localTtl * 1000)) return;
    const notBefore = await shared.get<unknown>(`user:${key}`);
    if (typeof notBefore === 'number' && Number.isFinite(notBefore))
      this.users.add(key, Math.min(notBefore, this.clock()));
  }

  /**
   * Ends every session of a user signed in until now, here and (with a shared store) on every
   * instance, including instances started later: the not-before time is kept in the store for a
   * session's absolute lifetime, and queued while the store is unreachable.
   */
  async revokeUser(userId: string): Promise<void> {
    const key = userKeyOf(userId);
    const notBefore = this.clock();
    this.userRevoked(key, notBefore);
    await this.shared?.writeDurably(userRevocationWrites(key, notBefore, this.users.lifetimeMs));
    debug('user revoked');
  }

  /** A user revocation made here or heard from another instance: remembered, the user's cached answers dropped. */
  userRevoked(userKey: string, notBefore: number): void {
    this.users.add(userKey, notBefore);
    this.cache.dropUser((user) => this.users.keyOf(user) === userKey);
  }

  /**
   * Logs a session out: it is refused from now on until it would have expired anyway, here and
   * (with a shared store) on every instance, and its cached check_token answer is dropped.
   */
  async revoke(s: SessionData): Promise<void> {
    // Already logged out (here, or heard from another instance): nothing to write or tell again,
    // so replaying a revoked cookie at /logout cannot fill the queue of writes kept for an outage.
    if (this.revocations.has(s.id, this.clock())) return;
    this.telemetry.sessionEnded('logout', this.cache.userOf(tokenHash(s.accessToken), this.clock()));
    await this.revokeId(s.id, this.policy.absoluteEnd(s) * 1000);
    await this.cache.forget(tokenHash(s.accessToken));
    debug('session revoked');
  }

  /** Revokes the session a Cookie header carries, if any (logout). Returns the cookie names to clear. */
  async revokeCookie(cookieHeader: string | undefined): Promise<readonly string[]> {
    const read = this.cookies.read(cookieHeader);
    const s = read.data ?? (await this.openPointer(read));
    if (s !== undefined) await this.revoke(s);
    return read.names;
  }

  /** The session a server-side pointer names, for logout; without its tokens (store down), the id is still revoked. */
  private async openPointer(read: SessionRead): Promise<SessionData | undefined> {
    const pointer = read.pointer;
    if (pointer === undefined || this.server === undefined) return undefined;
    const now = this.clock();
    const tokens = this.peekTokens(pointer, now) ?? (await this.loadTokens(pointer, now).catch(() => undefined));
    if (tokens !== undefined) return { ...tokens, ...pointer };
    // The session cannot come back: its id is refused until its absolute end.
    this.telemetry.sessionEnded('logout');
    await this.revokeId(pointer.id, this.policy.absoluteEnd(pointer) * 1000);
    return undefined;
  }

  /**
   * Refuses a session id from now until `until` (ms) here, and on every instance: the denylist
   * entry, its event and the deletion of server-side tokens are queued and retried while the store
   * is unreachable, so a logout made during an outage still reaches everyone once it is back.
   */
  private async revokeId(id: string, until: number): Promise<void> {
    this.revocations.add(id, until);
    await this.shared?.writeDurably([
      { put: `revoked:${id}`, value: 1, ttlMs: until - this.clock() },
      { publish: { kind: 'revoke', sessionId: id, until } },
    ]);
    await this.server?.delete(id);
  }
}
