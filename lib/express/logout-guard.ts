import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeHtml, sendGuardPage } from './page';

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
 * Answers a cross-site `GET /logout` navigation with a page asking to confirm: its button POSTs
 * (same-origin) to `action`. No script, no secret, not framable, not cached.
 */
export function sendLogoutConfirmation(req: IncomingMessage, res: ServerResponse, action: string, home: string): void {
  const body =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign out?</title></head>' +
    `<body><h1>Sign out?</h1><form method="post" action="${escapeHtml(action)}"><button type="submit">Sign out</button> <a href="${escapeHtml(home)}">Cancel</a></form></body></html>\n`;
  sendGuardPage(res, req.method, body);
}
