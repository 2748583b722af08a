import { sessionCookieFor } from './parts';
import { type SessionData } from '../../lib/session/session-cookie';

/** Opens a session cookie sealed with the test secret (tests only: the app never exposes this). */
export function openSession(cookieHeader: string, secret?: string): SessionData {
  const data = sessionCookieFor(secret ? { secret } : {}).read(cookieHeader).data;
  if (data === undefined) throw new Error('cookie does not open');
  return data;
}
