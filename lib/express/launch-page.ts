import type { ServerResponse } from 'node:http';
import type { SsoUser } from '../sso/types';
import { escapeHtml, sendGuardPage } from './page';

/**
 * Every user-visible string of the account-switch page, in one place (for the page catalogue).
 * `{current}` and `{next}` stand for the two accounts.
 */
export const LAUNCH_CONFIRM_TEXT = {
  lang: 'en',
  title: 'Switch account?',
  signedInAs: 'You are signed in as {current}.',
  linkFor: 'This link signs you in as {next}.',
  switch: 'Continue as {next}',
  stay: 'Stay signed in as {current}',
} as const;

/** The strings of the account-switch page (another language's catalogue entry has the same keys). */
export type LaunchConfirmText = Readonly<Record<keyof typeof LAUNCH_CONFIRM_TEXT, string>>;

/** What the page shows and where its form posts. No token: the tokens travel sealed in `sealed`. */
export interface LaunchConfirmation {
  readonly current: SsoUser;
  readonly next: SsoUser;
  /** The launch route: the form POSTs `launch=<sealed>` there (same origin). */
  readonly action: string;
  readonly sealed: string;
  /** Where "stay" goes: the launch's target, without tokens. */
  readonly cancel: string;
}

/** How an account is named: its name, and its id when the name is not the id. */
function accountName(user: SsoUser): string {
  const name = typeof user.user_name === 'string' && user.user_name !== '' ? user.user_name : undefined;
  return name === undefined || name === user.user_id ? user.user_id : `${name} (${user.user_id})`;
}

/** The page's HTML: escaped names, a form with one hidden field, no script, no style. */
export function launchConfirmationHtml(
  page: LaunchConfirmation,
  text: LaunchConfirmText = LAUNCH_CONFIRM_TEXT,
): string {
  const fill = (s: string): string =>
    escapeHtml(s)
      .replace('{current}', `<strong>${escapeHtml(accountName(page.current))}</strong>`)
      .replace('{next}', `<strong>${escapeHtml(accountName(page.next))}</strong>`);
  return (
    `<!doctype html><html lang="${escapeHtml(text.lang)}"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(text.title)}</title></head>` +
    `<body><h1>${escapeHtml(text.title)}</h1><p>${fill(text.signedInAs)}</p><p>${fill(text.linkFor)}</p>` +
    `<form method="post" action="${escapeHtml(page.action)}">` +
    `<input type="hidden" name="launch" value="${escapeHtml(page.sealed)}">` +
    `<button type="submit">${fill(text.switch)}</button> <a href="${escapeHtml(page.cancel)}">${fill(text.stay)}</a>` +
    `</form></body></html>\n`
  );
}

/** Sends the page (see sendGuardPage: no-store, no referrer, not framable, a CSP that only allows the form). */
export function sendLaunchConfirmation(
  method: string | undefined,
  res: ServerResponse,
  page: LaunchConfirmation,
): void {
  sendGuardPage(res, method, launchConfirmationHtml(page));
}
