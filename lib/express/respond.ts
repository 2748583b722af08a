import type { IncomingMessage, ServerResponse } from 'node:http';
import createDebug from 'debug';
import { SsoGuardError } from '../errors';
import { localizeMessage } from '../i18n/catalogue';
import { errorPageContext, errorPageKind } from '../i18n/pages';
import { answerLanguage, sendPage, type PageSettings } from './send-page';

const debug = createDebug('express-sso-guard');

/**
 * Whether a request is a browser navigation (answer with a redirect or a page) rather than an API
 * call (answer with JSON): GET/HEAD with `Sec-Fetch-Mode: navigate`, or an Accept that prefers HTML.
 */
export function isNavigation(req: IncomingMessage): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const mode = req.headers['sec-fetch-mode'];
  if (mode !== undefined) return mode === 'navigate';
  if (req.headers['x-requested-with'] !== undefined) return false;
  const accept = req.headers.accept;
  if (accept === undefined) return false;
  const html = accept.indexOf('text/html');
  if (html === -1) return false;
  const json = accept.indexOf('json');
  return json === -1 || html < json;
}

/** A 302 (or 303 for non-GET) redirect with no body to speak of. */
export function redirect(res: ServerResponse, location: string, status = 302): void {
  res.statusCode = status;
  res.setHeader('location', location);
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-length', '0');
  res.end();
}

/**
 * Answers an SsoGuardError with its status and a short body: JSON `{error, message}` for API
 * calls, a page for navigations (the app's `renderPage`, else the built-in one), both in the
 * request's language. The message is ours (never an upstream body) and holds no secret. 401
 * answers carry `WWW-Authenticate`.
 */
export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  err: SsoGuardError,
  pages: PageSettings,
  options: { realm: string; invalidToken?: boolean; loginUrl?: string; json?: boolean },
): void {
  debug('%s %s -> %d %s: %s', req.method, (req.url ?? '').split('?')[0], err.status, err.code, err.message);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.statusCode = err.status;
  res.setHeader('cache-control', 'no-store');
  if (err.status === 401) {
    res.setHeader(
      'www-authenticate',
      `Bearer realm="${options.realm}"${options.invalidToken ? ', error="invalid_token"' : ''}`,
    );
  }
  if (err.status === 503) res.setHeader('retry-after', '5');
  const lang = answerLanguage(req, res, pages);
  const message = localizeMessage(err.code, err.message, lang);
  if (!options.json && isNavigation(req)) {
    const kind = errorPageKind(err.code, err.status);
    return sendPage(req, res, pages, kind, errorPageContext(kind, lang, err, message, options.loginUrl));
  }
  res.setHeader('content-type', 'application/json; charset=utf-8');
  const body = JSON.stringify({ error: err.code, message });
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}
