import type { SessionCookie, SessionData } from '../session/session-cookie';
import type { SsoUser, TokenSet } from '../sso/types';
import type { LoginEntry } from '../telemetry/events';
import type { Telemetry } from '../telemetry/telemetry';
import { randomToken } from '../util/crypto';

/**
 * Where a session's tokens came from: a sign-in (`LoginEntry`: the callback's code exchange, a
 * console or SaaS-redirect launch's checked tokens, the testing helper), or a `refresh` of an
 * existing session's tokens.
 */
export type SessionEntry = LoginEntry | 'refresh';

/** The tokens a session holds, as the SSO's token answers carry them. */
export type SessionTokens = Pick<TokenSet, 'accessToken' | 'refreshToken' | 'tokenType' | 'expiresIn'>;

/** How the session is made: a new one (a sign-in), or the renewal of one. */
export type SessionFromTokensOptions =
  | {
      readonly entry: LoginEntry;
      /** The time of the sign-in (ms): the session starts, and its token's lifetime counts, from here. */
      readonly now: number;
      /** Session cookies the request carried (overwritten or cleared by the new cookie). */
      readonly previous?: readonly string[];
      /** The signed-in user (check_token), when known: named in the `login` event and log line. */
      readonly user?: SsoUser;
    }
  | {
      readonly entry: 'refresh';
      /** The time of the request (ms): the session counts as touched then. */
      readonly now: number;
      /** When the SSO issued the tokens (ms): their lifetime counts from here. */
      readonly issuedAt: number;
      /** The session the tokens renew: its id and sign-in time carry over (and its refresh token, when not rotated). */
      readonly renews: SessionData;
    };

/** The parts a session is written through; `SessionLifecycle` has them all. */
export interface SessionWriter {
  /** Seals the session cookie. */
  readonly cookies: Pick<SessionCookie, 'serialize'>;
  /** Keeps a server-side session's tokens in the store (absent: cookie sessions only). */
  keep?(s: SessionData, options: { writeBehind: boolean }): Promise<void>;
  /** Counts a sign-in and emits the `login` event (absent: nothing to count). */
  readonly telemetry?: Pick<Telemetry, 'sessionStarted'>;
}

/** A session made from tokens: what the caller writes. */
export interface NewSession {
  readonly session: SessionData;
  /**
   * The Set-Cookie lines of a new session (its tokens, or with server-side sessions a pointer to
   * them); undefined for a renewal, whose cookie is written once the new token is checked.
   */
  readonly setCookie: string[] | undefined;
  /**
   * Keeps server-side tokens in the store (queued while it is unreachable, for a renewal: tokens
   * the SSO already issued) and counts a sign-in (metric, log line, `login` event). Call it once,
   * before writing `setCookie`; rejects with an SsoGuardError when the store cannot keep a new session.
   */
  commit(): Promise<void>;
}

/**
 * The one place a session is made from tokens (code exchange, launch, refresh, the testing
 * helper). Throws `upstream_error` when the tokens are too large for a session cookie, before
 * anything is written.
 */
export function sessionFromTokens(
  writer: SessionWriter,
  tokens: SessionTokens,
  options: SessionFromTokensOptions,
): NewSession {
  const nowSec = Math.floor(options.now / 1000);
  if (options.entry === 'refresh') {
    const old = options.renews;
    const session: SessionData = {
      id: old.id,
      accessToken: tokens.accessToken,
      // No refresh token in the answer: the SSO did not rotate it, the old one stays valid.
      refreshToken: tokens.refreshToken ?? old.refreshToken,
      tokenType: tokens.tokenType,
      expiresAt: Math.floor(options.issuedAt / 1000) + tokens.expiresIn,
      lifetime: tokens.expiresIn,
      createdAt: old.createdAt,
      touchedAt: nowSec,
    };
    return {
      session,
      setCookie: undefined,
      commit: async () => writer.keep?.(session, { writeBehind: true }),
    };
  }
  const session: SessionData = {
    id: randomToken(16),
    accessToken: tokens.accessToken,
    ...(tokens.refreshToken === undefined ? {} : { refreshToken: tokens.refreshToken }),
    tokenType: tokens.tokenType,
    expiresAt: nowSec + tokens.expiresIn,
    lifetime: tokens.expiresIn,
    // To the millisecond: `revokeUser()` refuses sessions signed in before it, not just after.
    createdAt: Math.floor(options.now) / 1000,
    touchedAt: nowSec,
  };
  // Sealed first: a session too large for its cookie is refused before the store holds it.
  const setCookie = writer.cookies.serialize(session, nowSec, options.previous ?? []);
  const { user, entry } = options;
  return {
    session,
    setCookie,
    commit: async () => {
      await writer.keep?.(session, { writeBehind: false });
      writer.telemetry?.sessionStarted(user?.user_id, entry);
    },
  };
}
