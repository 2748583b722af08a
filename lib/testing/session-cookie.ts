import { OPTIONS } from '../config';
import { resolveOptions } from '../option-rules';
import { SsoGuardError } from '../errors';
import { sessionFromTokens } from '../auth/session-from-tokens';
import { SessionCookie } from '../session/session-cookie';
import type { IssuedTokens } from '../emulator/types';

/** Options of {@link sessionCookie}: the same values the app gives `auth()`. */
export interface SessionCookieOptions {
  /** The app's `secret` (or `SESSION_SECRET`): at least 32 characters; with an array, the first seals. */
  secret: string | string[];
  /** The app's `session.name`. Default `sso_session`. */
  name?: string;
  /** The time the session starts, ms since the epoch (pass the app's fake clock). Default `Date.now()`. */
  now?: number;
}

/**
 * The `Cookie` header value of a valid session holding `tokens` (from `emulator.issueTokens(userId)`),
 * so a test request is signed in with no browser flow:
 * `supertest(app).get('/profile').set('Cookie', sessionCookie(sso.issueTokens('usr-alice'), { secret }))`.
 * The app still calls the emulator's check_token, so `req.sso.user` and the temporary keys are real.
 * Cookie sessions only (not `session.serverSide`).
 */
export function sessionCookie(tokens: IssuedTokens, options: SessionCookieOptions): string {
  if (
    tokens === null ||
    typeof tokens !== 'object' ||
    typeof tokens.access_token !== 'string' ||
    tokens.access_token === ''
  ) {
    throw new SsoGuardError(
      'invalid_option',
      'sessionCookie(): "tokens" must be what emulator.issueTokens() returns ({ access_token, expires_in, token_type, refresh_token? })',
    );
  }
  if (typeof tokens.expires_in !== 'number' || !Number.isFinite(tokens.expires_in) || tokens.expires_in <= 0) {
    throw new SsoGuardError(
      'invalid_option',
      'sessionCookie(): "tokens.expires_in" must be a positive number of seconds',
    );
  }
  const { secret, name, now = Date.now() } = options ?? ({} as SessionCookieOptions);
  if (!Number.isFinite(now))
    throw new SsoGuardError('invalid_option', 'sessionCookie(): "now" must be milliseconds since the epoch');
  // The app's own validation of `secret` and `session.name` (same rules, same messages).
  const valid = resolveOptions(
    { secret: OPTIONS.secret, session: { group: { name: OPTIONS.session.group.name } } },
    { secret, session: name === undefined ? {} : { name } },
    {},
  );
  const cookies = new SessionCookie({
    secrets: valid.secret,
    name: valid.session.name,
    // Only the cookie's name=value is returned: its attributes do not matter here.
    path: '/',
    secure: false,
    rollingDuration: OPTIONS.session.group.rollingDuration.default,
    absoluteDuration: OPTIONS.session.group.absoluteDuration.default,
    serverSide: false,
    max: 1,
  });
  const tokenSet = {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    tokenType: tokens.token_type,
    expiresIn: tokens.expires_in,
  };
  return sessionFromTokens({ cookies }, tokenSet, { entry: 'testing', now })
    .setCookie!.map((line) => line.slice(0, line.indexOf(';')))
    .join('; ');
}
