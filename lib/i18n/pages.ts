import { escapeHtml } from '../util/html';
import type { SsoGuardErrorCode } from '../errors';
import { PAGE_TEXT } from './catalogue';
import type { Language } from './language';

/** What every page's context holds. Never a token, key, secret or cookie. */
export interface PageContextBase {
  /** The language the page is in. */
  readonly lang: Language;
  /** The HTTP status the page is sent with. */
  readonly status: number;
  /** The page's title, in `lang`. */
  readonly title: string;
  /** The page's sentence, in `lang` (the error's message on error pages). */
  readonly message: string;
}

/** Context of the error pages: `forbidden`, `sso-unavailable`, `error`. */
export interface ErrorPageContext extends PageContextBase {
  /** The `SsoGuardError` code (`unauthenticated`, `forbidden`, `upstream_unavailable`, …). */
  readonly code: SsoGuardErrorCode;
  /** Where to sign in (again), when the page offers it (after a failed sign-in); else undefined. */
  readonly signInUrl: string | undefined;
  /** The label of the sign-in link, in `lang`. */
  readonly signInLabel: string;
}

/** Context of the confirmation pages (`logout-confirm`): a form the user submits to go on. */
export interface FormPageContext extends PageContextBase {
  /** The form's `action` (a path of the app, query included). */
  readonly action: string;
  /** The form's method: always `post`. */
  readonly method: 'post';
  /** Hidden fields to post with the form, name to value (none of them a secret). */
  readonly fields: Readonly<Record<string, string>>;
  /** Where "cancel" leads (the app's home). */
  readonly cancelUrl: string;
  /** The submit button's label, in `lang`. */
  readonly submitLabel: string;
  /** The cancel link's label, in `lang`. */
  readonly cancelLabel: string;
}

/** An account as the `switch-account` page names it. */
export interface PageAccount {
  /** The SSO's `user_id`. */
  readonly userId: string;
  /** The SSO's `user_name`, when it has a non-empty one. */
  readonly name: string | undefined;
  /** How the page names it: `name (userId)`, or `userId` alone when there is no other name. */
  readonly displayName: string;
}

/**
 * Context of `switch-account`: a launch link (AppCenter console or SaaS redirect) signs in another
 * account than the signed-in one, and the user confirms the switch with the form. `message` names
 * the signed-in account, `detail` the link's; the labels name them too.
 */
export interface SwitchAccountPageContext extends FormPageContext {
  /** The signed-in account (kept if the user cancels). */
  readonly current: PageAccount;
  /** The account the launch link signs in. */
  readonly next: PageAccount;
  /** The second sentence, in `lang`: which account the link signs in. */
  readonly detail: string;
  /**
   * The one hidden field, `launch`: the pending launch sealed by the middleware (encrypted and
   * authenticated, bound to the current session, valid 5 minutes). It is not a token and reveals
   * none, but the form must post it back unchanged (as `launch`, form-encoded, to `action`).
   */
  readonly fields: { readonly launch: string };
}

/**
 * Every page the middleware renders, by kind, with its context:
 * - `forbidden` (403): `authorize` (of `auth()` or of a Nest route) refused the user;
 * - `sso-unavailable` (502, 503, 504): the SSO (or the session store) failed;
 * - `error` (400 and any other status): a failed sign-in (`/callback`), with a link to sign in again;
 * - `logout-confirm` (200): a cross-site `GET /logout`, asking to confirm;
 * - `switch-account` (200): a launch (`launch: true`) as another user than the signed-in one,
 *   asking to confirm the switch.
 *
 * A signed-out navigation gets no page: it is redirected to `/login`.
 *
 * A new kind is one entry here, one in `BUILT_IN_PAGES` and its words in the catalogue.
 */
export interface PageContexts {
  forbidden: ErrorPageContext;
  'sso-unavailable': ErrorPageContext;
  error: ErrorPageContext;
  'logout-confirm': FormPageContext;
  'switch-account': SwitchAccountPageContext;
}

/** The kinds of page the middleware renders. */
export type PageKind = keyof PageContexts;
/** The kinds shown for an error. */
export type ErrorPageKind = { [K in PageKind]: PageContexts[K] extends ErrorPageContext ? K : never }[PageKind];
/** The kinds that ask the user to confirm with a form and need nothing more than `FormPageContext`. */
export type FormPageKind = {
  [K in PageKind]: PageContexts[K] extends FormPageContext
    ? FormPageContext extends PageContexts[K]
      ? K
      : never
    : never;
}[PageKind];

/** The arguments of `renderPage`: a kind and its context (TypeScript narrows the context on the kind). */
export type RenderPageArgs = { [K in PageKind]: [kind: K, context: PageContexts[K]] }[PageKind];

/**
 * The `renderPage` option: the HTML of a page, or undefined to keep the built-in one. Its text is
 * sent as is: escape what it puts in HTML.
 */
export type RenderPage = (...args: RenderPageArgs) => string | undefined;

function document(lang: Language, title: string, body: string): string {
  return (
    `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head>` +
    `<body>${body}</body></html>\n`
  );
}

function errorPage(c: ErrorPageContext): string {
  const link =
    c.signInUrl === undefined ? '' : `<p><a href="${escapeHtml(c.signInUrl)}">${escapeHtml(c.signInLabel)}</a></p>`;
  return document(c.lang, c.title, `<h1>${escapeHtml(c.title)}</h1><p>${escapeHtml(c.message)}</p>${link}`);
}

/** A confirmation page: its sentences (HTML), then the form with its hidden fields, button and cancel link. */
function confirmationPage(
  c: FormPageContext,
  html: { readonly paragraphs: string; readonly submit: string; readonly cancel: string },
): string {
  const hidden = Object.entries(c.fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  return document(
    c.lang,
    c.title,
    `<h1>${escapeHtml(c.title)}</h1>${html.paragraphs}` +
      `<form method="post" action="${escapeHtml(c.action)}">${hidden}<button type="submit">${html.submit}</button> ` +
      `<a href="${escapeHtml(c.cancelUrl)}">${html.cancel}</a></form>`,
  );
}

function formPage(c: FormPageContext): string {
  return confirmationPage(c, {
    paragraphs: `<p>${escapeHtml(c.message)}</p>`,
    submit: escapeHtml(c.submitLabel),
    cancel: escapeHtml(c.cancelLabel),
  });
}

/** A catalogue text with `{current}` and `{next}` replaced by `name(account)`; `text` escapes the template first, when asked. */
function fillAccounts(
  template: string,
  accounts: { current: PageAccount; next: PageAccount },
  name: (account: PageAccount) => string,
  text: (s: string) => string = (s) => s,
): string {
  return text(template)
    .replace('{current}', () => name(accounts.current))
    .replace('{next}', () => name(accounts.next));
}

/** The built-in switch page: the catalogue's sentences with both accounts in bold. */
function switchAccountPage(c: SwitchAccountPageContext): string {
  const text = PAGE_TEXT['switch-account'][c.lang];
  const fill = (template: string): string =>
    fillAccounts(template, c, (a) => `<strong>${escapeHtml(a.displayName)}</strong>`, escapeHtml);
  return confirmationPage(c, {
    paragraphs: `<p>${fill(text.message)}</p><p>${fill(text.detail)}</p>`,
    submit: fill(text.submit),
    cancel: fill(text.cancel),
  });
}

/** The built-in HTML of each kind: no script, no outside resource. */
export const BUILT_IN_PAGES: { readonly [K in PageKind]: (context: PageContexts[K]) => string } = {
  forbidden: errorPage,
  'sso-unavailable': errorPage,
  error: errorPage,
  'logout-confirm': formPage,
  'switch-account': switchAccountPage,
};

/** The kind of page an error is shown on. */
export function errorPageKind(code: SsoGuardErrorCode, status: number): ErrorPageKind {
  if (status === 403 && code === 'forbidden') return 'forbidden';
  if (status === 502 || status === 503 || status === 504) return 'sso-unavailable';
  return 'error';
}

/** The context of an error page: the kind's words in `lang` and the (already localized) message. */
export function errorPageContext(
  kind: ErrorPageKind,
  lang: Language,
  err: { code: SsoGuardErrorCode; status: number },
  message: string,
  signInUrl: string | undefined,
): ErrorPageContext {
  const text: { title: string; signIn?: string } = PAGE_TEXT[kind][lang];
  const fallback: string = PAGE_TEXT.error[lang].signIn;
  return Object.freeze({
    lang,
    status: err.status,
    title: text.title,
    message,
    code: err.code,
    signInUrl,
    signInLabel: text.signIn ?? fallback,
  });
}

/** The context of a confirmation page: the kind's words in `lang`, and where the form goes. */
export function formPageContext(
  kind: FormPageKind,
  lang: Language,
  form: { action: string; fields?: Record<string, string>; cancelUrl: string },
): FormPageContext {
  const text = PAGE_TEXT[kind][lang];
  return Object.freeze({
    lang,
    status: 200,
    title: text.title,
    message: text.message,
    action: form.action,
    method: 'post',
    fields: Object.freeze({ ...form.fields }),
    cancelUrl: form.cancelUrl,
    submitLabel: text.submit,
    cancelLabel: text.cancel,
  });
}

/** An account for the switch page, from the SSO's `user_id` and `user_name`. */
export function pageAccount(userId: string, userName: unknown): PageAccount {
  const name = typeof userName === 'string' && userName !== '' ? userName : undefined;
  const displayName = name === undefined || name === userId ? userId : `${name} (${userId})`;
  return Object.freeze({ userId, name, displayName });
}

/** The context of the switch page: its words in `lang` naming both accounts, and its form. */
export function switchAccountPageContext(
  lang: Language,
  page: {
    current: PageAccount;
    next: PageAccount;
    action: string;
    /** The sealed launch the form posts back (as `launch`). */
    sealed: string;
    cancelUrl: string;
  },
): SwitchAccountPageContext {
  const text = PAGE_TEXT['switch-account'][lang];
  const fill = (template: string): string => fillAccounts(template, page, (a) => a.displayName);
  return Object.freeze({
    lang,
    status: 200,
    title: text.title,
    message: fill(text.message),
    detail: fill(text.detail),
    action: page.action,
    method: 'post',
    fields: Object.freeze({ launch: page.sealed }),
    cancelUrl: page.cancelUrl,
    submitLabel: fill(text.submit),
    cancelLabel: fill(text.cancel),
    current: page.current,
    next: page.next,
  });
}
