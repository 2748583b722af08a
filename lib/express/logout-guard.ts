import type { IncomingMessage, ServerResponse } from 'node:http';
import { formPageContext } from '../i18n/pages';
import { answerLanguage, sendPage, type PageSettings } from './send-page';

/**
 * Where a request comes from, as the browser tells: `same` (same origin, or typed by the user),
 * `foreign` (another site or origin, or an opaque `null` origin), `unknown` (no browser signal at
 * all: curl, server-side clients, very old browsers). Read from `Sec-Fetch-Site`, else `Origin`,
 * else `Referer`.
 */
export function requestSite(req: IncomingMessage, appOrigin: string): 'same' | 'foreign' | 'unknown' {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin' || site === 'none' ? 'same' : 'foreign';
  const origin = req.headers.origin;
  if (typeof origin === 'string') return origin === appOrigin ? 'same' : 'foreign';
  const referer = req.headers.referer;
  if (typeof referer === 'string') {
    try {
      return new URL(referer).origin === appOrigin ? 'same' : 'foreign';
    } catch {
      return 'foreign';
    }
  }
  return 'unknown';
}

/**
 * Answers a cross-site `GET /logout` navigation with a page asking to confirm (kind
 * `logout-confirm`): its button POSTs (same-origin) to `action`. No script, no secret, not
 * framable, not cached.
 */
export function sendLogoutConfirmation(
  req: IncomingMessage,
  res: ServerResponse,
  pages: PageSettings,
  action: string,
  home: string,
): void {
  const lang = answerLanguage(req, res, pages);
  sendPage(req, res, pages, 'logout-confirm', formPageContext('logout-confirm', lang, { action, cancelUrl: home }));
}
