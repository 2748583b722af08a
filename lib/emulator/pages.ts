import type { EmulatorText } from './strings';
import type { EmulatorUser } from './types';

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Headers of every page: no scripts at all, no framing (clickjacking), nothing cached or leaked
 * through Referer. `form-action` is left open on purpose: browsers apply it to the redirect that
 * follows the form post, which goes to the app.
 */
export const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

const STYLE = `
  *{box-sizing:border-box}
  body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#f3f4f6;
    font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827}
  main{width:100%;max-width:380px;margin:24px;padding:28px;background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
  h1{margin:0 0 4px;font-size:22px}
  .sub{margin:0 0 20px;color:#4b5563;word-break:break-all}
  fieldset{margin:0 0 16px;padding:0;border:0}
  legend{margin-bottom:6px;font-weight:600}
  .user{display:flex;gap:10px;align-items:center;padding:8px 10px;border:1px solid #e5e7eb;border-radius:8px;margin-bottom:6px;cursor:pointer}
  .user small{display:block;color:#6b7280}
  label[for=username]{display:block;margin-bottom:6px;font-weight:600}
  input[type=text]{width:100%;padding:8px 10px;border:1px solid #d1d5db;border-radius:8px;font:inherit}
  .actions{display:flex;gap:8px;margin-top:20px}
  button{flex:1;padding:9px 12px;border-radius:8px;border:1px solid #1d4ed8;background:#2563eb;color:#fff;font:inherit;font-weight:600;cursor:pointer}
  button.secondary{background:#fff;color:#374151;border-color:#d1d5db}
  .note{margin:20px 0 0;font-size:13px;color:#6b7280}
`;

/** A whole page around `content`, with the emulator's style and note, in `text`'s language. */
export function page(text: EmulatorText, title: string, content: string): string {
  return `<!DOCTYPE html>
<html lang="${text.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title + text.titleSuffix)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${content}
<p class="note">${escapeHtml(text.note)}</p>
</main>
</body>
</html>
`;
}

/** The authorize request, carried through the sign-in form in hidden fields. */
export interface SignInRequest {
  clientId: string;
  redirectUri: string;
  /** `undefined` when the request had none (then none is echoed). */
  state: string | undefined;
}

/** The sign-in page: pick a user (first preselected) or type a name; "Sign in" or "Cancel". Works without JavaScript. */
export function signInPage(text: EmulatorText, request: SignInRequest, users: readonly EmulatorUser[]): string {
  const t = text.signIn;
  const hidden = (name: string, value: string): string =>
    `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
  const fields = [
    hidden('client_id', request.clientId),
    hidden('response_type', 'code'),
    hidden('redirect_uri', request.redirectUri),
    request.state === undefined ? '' : hidden('state', request.state),
  ].join('');
  const choices = users
    .map(
      (user, i) =>
        `<label class="user"><input type="radio" name="user" value="${escapeHtml(user.user_id)}"${i === 0 ? ' checked' : ''}>` +
        `<span>${escapeHtml(user.user_name)}<small>${escapeHtml(user.email || user.user_id)}</small></span></label>`,
    )
    .join('\n');
  let returnTo = request.redirectUri;
  try {
    returnTo = new URL(request.redirectUri).origin;
  } catch {
    // Validated before; keep the raw value if it somehow does not parse.
  }
  const to = escapeHtml(t.to)
    .replace('{client}', () => `<strong>${escapeHtml(request.clientId)}</strong>`)
    .replace('{origin}', () => `<code>${escapeHtml(returnTo)}</code>`);
  return page(
    text,
    t.title,
    `<h1>${escapeHtml(t.title)}</h1>
<p class="sub">${to}</p>
<form method="post" action="approve">
${fields}
<fieldset>
<legend>${escapeHtml(t.chooseUser)}</legend>
${choices}
</fieldset>
<label for="username">${escapeHtml(t.typeName)}</label>
<input type="text" id="username" name="username" maxlength="64" autocomplete="off" spellcheck="false" placeholder="${escapeHtml(t.placeholder)}">
<div class="actions">
<button type="submit" id="sign-in" name="action" value="approve">${escapeHtml(t.submit)}</button>
<button type="submit" id="cancel" name="action" value="cancel" class="secondary">${escapeHtml(t.cancel)}</button>
</div>
</form>`,
  );
}

/** The page of a refused authorize request (the emulator never redirects to an unvalidated URI). */
export function errorPage(text: EmulatorText, status: number, message: string): string {
  const title = text.refused.title;
  return page(text, title, `<h1>${escapeHtml(title)}</h1>\n<p class="sub">${status}: ${escapeHtml(message)}</p>`);
}
