import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Core } from '../instance';
import { requestLanguage, type Language, type LanguageSetting } from '../i18n/language';
import { varyOnLanguage } from '../util/accept-language';
import { BUILT_IN_PAGES, type PageContexts, type PageKind, type RenderPage } from '../i18n/pages';
import type { SsoGuardLogger } from '../telemetry/logger';

/** The page settings of one `auth()` instance: its language options and its logger. */
export function pageSettings(core: Core): PageSettings {
  return { language: core.config.language, renderPage: core.config.renderPage, telemetry: core.telemetry };
}

export interface PageSettings {
  readonly language: LanguageSetting;
  readonly renderPage: RenderPage | undefined;
  readonly telemetry: { readonly log: SsoGuardLogger };
}

/**
 * Every page's policy, built-in or the app's own: no script, no frame, no outside resource; inline
 * styles and `data:` images allowed so an app's page can be styled; forms post to the app only.
 */
export const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * The language of this request's answer, with its headers: `Content-Language`, and
 * `Vary: Accept-Language` when the language comes from the request.
 */
export function answerLanguage(req: IncomingMessage, res: ServerResponse, settings: PageSettings): Language {
  const lang = requestLanguage(settings.language, req.headers['accept-language']);
  res.setHeader('content-language', lang);
  if (settings.language === 'auto') varyOnLanguage(res);
  return lang;
}

/** The page's HTML: the app's `renderPage`, else (undefined, not a string, or a throw) the built-in one. */
function pageHtml<K extends PageKind>(settings: PageSettings, kind: K, context: PageContexts[K]): string {
  const custom = settings.renderPage as ((kind: K, context: PageContexts[K]) => unknown) | undefined;
  if (custom !== undefined) {
    try {
      const html = custom(kind, context);
      if (typeof html === 'string') return html;
    } catch (err) {
      settings.telemetry.log.error(
        `renderPage("${kind}") threw (${err instanceof Error ? err.name : typeof err}); the built-in page was sent`,
      );
    }
  }
  return BUILT_IN_PAGES[kind](context);
}

/**
 * Sends a page with its context's status: not cached, not framable, no referrer, under {@link PAGE_CSP}. Call
 * {@link answerLanguage} first (the context's language comes from it).
 */
export function sendPage<K extends PageKind>(
  req: IncomingMessage,
  res: ServerResponse,
  settings: PageSettings,
  kind: K,
  context: PageContexts[K],
): void {
  const body = pageHtml(settings, kind, context);
  res.statusCode = context.status;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-security-policy', PAGE_CSP);
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}
