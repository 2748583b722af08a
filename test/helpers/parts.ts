import { resolveConfig } from '../../lib/config';
import { sessionCookieOptions, transactionCookieOptions } from '../../lib/instance';
import type { SsoGuardOptions } from '../../lib/options';
import { SessionCookie } from '../../lib/session/session-cookie';
import { TransactionCookie } from '../../lib/session/transaction-cookie';
import { testOptions } from './options';

/** The session cookie an app with these options (over {@link testOptions}) reads and writes. */
export function sessionCookieFor(overrides: SsoGuardOptions = {}): SessionCookie {
  return new SessionCookie(sessionCookieOptions(resolveConfig(testOptions(overrides), {})));
}

/** The transaction cookies an app with these options (over {@link testOptions}) reads and writes. */
export function transactionCookieFor(overrides: SsoGuardOptions = {}): TransactionCookie {
  return new TransactionCookie(transactionCookieOptions(resolveConfig(testOptions(overrides), {})));
}
