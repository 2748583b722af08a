import type http from 'node:http';
import { sendPage, pageProblem, withQuery, type HandlerContext } from './handlers';
import { OAuthProblem, parseForm, redirect } from './http';
import { escapeHtml, page } from './pages';
import { pageText, type EmulatorText } from './strings';

/**
 * The AppCenter console, as far as an app sees it: a page listing the emulator's users, each
 * with the two ways a user arrives at the app. "Open from the console" sends the user to
 * `authUrl?token=<access token>`; "SaaS redirect" to `appUrl?access_token=…&refresh_token=…`.
 * The page holds no token: the buttons POST here, the tokens are minted then (real ones, that
 * check_token accepts) and travel only in the 303 redirect to the configured app URL.
 */
export function consolePage(ctx: HandlerContext, text: EmulatorText): string {
  const { authUrl, appUrl } = ctx.config.console;
  const t = text.console;
  const button = (mode: string, label: string, target: string | undefined): string =>
    target === undefined
      ? `<button type="button" disabled title="${escapeHtml(t.setOption.replace('{option}', mode === 'auth' ? 'console.authUrl' : 'console.appUrl'))}">${escapeHtml(label)}</button>`
      : `<button type="submit" name="mode" value="${mode}">${escapeHtml(label)}</button>`;
  const rows = [...ctx.store.users.values()]
    .map(
      (user) =>
        `<form method="post" action="console/launch" class="user">` +
        `<input type="hidden" name="user_id" value="${escapeHtml(user.user_id)}">` +
        `<span>${escapeHtml(user.user_name)}<small>${escapeHtml(user.user_id)}</small></span>` +
        `<span class="actions">${button('auth', t.open, authUrl)}${button('saas', t.saas, appUrl)}</span>` +
        `</form>`,
    )
    .join('\n');
  const target = (name: string, url: string | undefined): string =>
    `<li>${name}: ${url === undefined ? `<em>${escapeHtml(t.notSet)}</em>` : `<code>${escapeHtml(url)}</code>`}</li>`;
  return page(
    text,
    t.title,
    `<h1>${escapeHtml(t.title)}</h1>
<p class="sub">${escapeHtml(t.intro)}</p>
<ul class="sub">${target('authUrl', authUrl)}${target('appUrl', appUrl)}</ul>
${rows}`,
  );
}

/** `GET /console`. */
export function handleConsole(ctx: HandlerContext, req: http.IncomingMessage, res: http.ServerResponse): void {
  sendPage(res, 200, consolePage(ctx, pageText(req, res)));
}

/** `POST /console/launch` (`user_id`, `mode` = `auth` | `saas`): mints tokens and redirects (303) to the app. */
export function handleConsoleLaunch(
  ctx: HandlerContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: string,
): void {
  try {
    const form = parseForm(req, body);
    const userId = form.get('user_id');
    if (userId === undefined || !ctx.store.users.has(userId)) throw new OAuthProblem('invalid_request', 'unknown user');
    const mode = form.get('mode');
    const target =
      mode === 'auth' ? ctx.config.console.authUrl : mode === 'saas' ? ctx.config.console.appUrl : undefined;
    if (mode !== 'auth' && mode !== 'saas') throw new OAuthProblem('invalid_request', 'mode must be "auth" or "saas"');
    if (target === undefined)
      throw new OAuthProblem(
        'invalid_request',
        `the emulator has no console.${mode === 'auth' ? 'authUrl' : 'appUrl'}`,
      );
    const clientId = ctx.config.clients[0]?.clientId ?? '';
    const { tokens } = ctx.store.createGrant(clientId, userId, 'sso', {});
    const location =
      mode === 'auth'
        ? withQuery(target, { token: tokens.access_token })
        : withQuery(target, { access_token: tokens.access_token, refresh_token: tokens.refresh_token });
    redirect(res, location, 303);
  } catch (err) {
    pageProblem(req, res, err);
  }
}
