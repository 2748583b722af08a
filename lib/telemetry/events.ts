import type { SsoGuardLogger } from './logger';

/** The SSO endpoints the package calls (`sso.endpoint`). */
export type SsoEndpoint = 'token' | 'check_token' | 'refresh_token';
/** How an SSO call ended (`sso.outcome`). `refused`: the SSO answered no (a bad code or token). */
export type SsoOutcome = 'ok' | 'refused' | 'error' | 'timeout' | 'unavailable';
/** How a check_token lookup was answered (`result`). */
export type CacheResult = 'hit' | 'miss' | 'coalesced';
/**
 * How a refresh ended (`outcome`): `refreshed` by this instance's own SSO call, `adopted` from a
 * refresh already done (the grace window for requests carrying the old cookie, or another
 * instance), `refused` by the SSO (the session ends), `pending`: refused, but another instance
 * may have just used the refresh token and not yet published its outcome (the session is kept,
 * 503, until the refusal grace window tells), `failed` upstream (the session is kept).
 */
export type RefreshOutcome = 'refreshed' | 'adopted' | 'refused' | 'pending' | 'failed';
/**
 * Why a session ended (`reason`): `logout` (the logout route or `req.sso.revokeSession()`),
 * `refused` (the SSO refused the access and refresh tokens), `expired` (the access token expired
 * and there is no refresh token), `lifetime` (idle or absolute lifetime over), `revoked` (logged
 * out elsewhere), `not_found` (a server-side session missing from the store), `user_revoked`
 * (`revokeUser()` ended every session of the user signed in before it).
 */
export type SessionEndReason = 'logout' | 'refused' | 'expired' | 'lifetime' | 'revoked' | 'not_found' | 'user_revoked';

/**
 * How a session started (`entry`): `callback` (a browser sign-in), `launch-console` (the AppCenter
 * console's `?token=` launch), `launch-redirect` (the SaaS redirect's `?access_token=`), `testing`
 * (`sessionCookie()` of express-sso-guard/testing).
 */
export type LoginEntry = 'callback' | 'launch-console' | 'launch-redirect' | 'testing';

/** `login`: a session started (after `/callback`, or a launch). */
export interface LoginEvent {
  /** `user.user_id` from check_token (always known: listening to `login` makes the callback call check_token). */
  readonly userId: string | undefined;
  /** Where the session came from. */
  readonly entry: LoginEntry;
}
/** `logout`: a session was logged out. */
export interface LogoutEvent {
  /** Known when the session's check_token answer is still cached in this process. */
  readonly userId: string | undefined;
}
/** `refresh`: a session's tokens were refreshed, adopted, or could not be. */
export interface RefreshEvent {
  readonly outcome: RefreshOutcome;
  /** Milliseconds spent (the SSO call, or waiting for another instance's). */
  readonly durationMs: number;
}
/** `sessionEnd`: a session ended (its cookie is cleared on this response). */
export interface SessionEndEvent {
  readonly reason: SessionEndReason;
  readonly userId: string | undefined;
}
/** `ssoError`: an SSO call failed (not a refusal: the SSO could not answer properly). */
export interface SsoErrorEvent {
  readonly endpoint: SsoEndpoint;
  readonly outcome: 'error' | 'timeout' | 'unavailable';
  /** The `SsoGuardError` code, e.g. `upstream_timeout`. */
  readonly code: string;
  /** The error message (never a token, key or secret). */
  readonly message: string;
  readonly durationMs: number;
}

/**
 * Listeners of `auth({ events })`. Fire-and-forget: called after the fact, never awaited; a
 * listener that throws or rejects is logged (`logger.error`) and never affects the request.
 * Payloads hold no token, key, secret or session id.
 */
export interface SsoGuardEvents {
  login?: (event: LoginEvent) => void | Promise<void>;
  logout?: (event: LogoutEvent) => void | Promise<void>;
  refresh?: (event: RefreshEvent) => void | Promise<void>;
  sessionEnd?: (event: SessionEndEvent) => void | Promise<void>;
  ssoError?: (event: SsoErrorEvent) => void | Promise<void>;
}

export const EVENT_NAMES = ['login', 'logout', 'refresh', 'sessionEnd', 'ssoError'] as const;
type EventName = (typeof EVENT_NAMES)[number];
type Payload<K extends EventName> = Parameters<NonNullable<SsoGuardEvents[K]>>[0];

/** What a listener threw, for the log: its message, or a description that cannot itself throw. */
function describeThrown(err: unknown): string {
  try {
    return err instanceof Error ? String(err.message) : String(err);
  } catch {
    return 'a value that cannot be printed';
  }
}

/** Calls a listener, if any, and keeps its failure (thrown or rejected, whatever the value) away from the caller. */
export function emit<K extends EventName>(
  events: SsoGuardEvents,
  logger: SsoGuardLogger,
  name: K,
  payload: Payload<K>,
): void {
  const listener = events[name] as ((e: Payload<K>) => unknown) | undefined;
  if (listener === undefined) return;
  const failed = (err: unknown): void => logger.error(`"${name}" listener failed: ${describeThrown(err)}`);
  try {
    const result = listener(Object.freeze(payload) as Payload<K>);
    if (result !== null && typeof (result as Promise<unknown>)?.then === 'function')
      (result as Promise<unknown>).then(undefined, failed);
  } catch (err) {
    failed(err);
  }
}
