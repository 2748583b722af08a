/**
 * The whole sign-in, in a real browser: Debian's Chromium driven by playwright-core against the
 * example app and its bundled SSO emulator, both started in-process on free ports.
 *
 * Without /usr/bin/chromium the suite is skipped with a printed reason, unless REQUIRE_BROWSER=1
 * (CI), which makes it fail. When it ran and passed it writes `test-output/e2e/ran`, which CI checks.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { type Browser, type BrowserContext, type Cookie } from 'playwright-core';
import { describeWithBrowser, launchChromium } from '../helpers/chromium';
import { EXAMPLE_VERSIONS, TEST_SECRET, type StartedExample } from './example-app';

const OUT_DIR = path.join(__dirname, '..', '..', 'test-output', 'e2e');
const MARKER = path.join(OUT_DIR, 'ran');
const TOKEN_TTL_S = 3;

// A marker from an earlier run must not vouch for this one.
fs.rmSync(MARKER, { force: true });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Records every token and key the emulator hands out (token, refresh and check_token answers),
 * by watching its HTTP responses in-process, so the test can look for them in the browser's cookies.
 */
function recordSecrets(emulatorPort: number): { secrets: Set<string>; accessTokens: Set<string>; stop(): void } {
  const secrets = new Set<string>();
  const accessTokens = new Set<string>();
  const onRequest = (message: unknown): void => {
    const { request, response } = message as { request: http.IncomingMessage; response: http.ServerResponse };
    if (
      request.socket.localPort !== emulatorPort ||
      !/^\/sso\/(token|refresh_token|check_token)\//.test(request.url ?? '')
    )
      return;
    const end = response.end.bind(response) as (...args: unknown[]) => http.ServerResponse;
    response.end = ((...args: unknown[]) => {
      try {
        const body = JSON.parse(String(args[0])) as Record<string, unknown>;
        for (const field of ['access_token', 'refresh_token', 'access_key', 'secret_key', 'token']) {
          if (typeof body[field] === 'string') secrets.add(body[field] as string);
        }
        if (typeof body.access_token === 'string') accessTokens.add(body.access_token);
      } catch {
        // Not a JSON answer: nothing issued.
      }
      return end(...args);
    }) as typeof response.end;
  };
  diagnosticsChannel.subscribe('http.server.request.start', onRequest);
  return { secrets, accessTokens, stop: () => diagnosticsChannel.unsubscribe('http.server.request.start', onRequest) };
}

describeWithBrowser('the browser test').each(EXAMPLE_VERSIONS)(
  'sign-in in a real browser (Chromium, %s)',
  (name, start, major) => {
    let app: StartedExample;
    let browser: Browser;
    let context: BrowserContext;
    let recorder: ReturnType<typeof recordSecrets>;

    beforeAll(async () => {
      fs.mkdirSync(OUT_DIR, { recursive: true });
      app = await start({
        port: 0,
        env: { SESSION_SECRET: TEST_SECRET, EMULATOR_ACCESS_TOKEN_TTL: String(TOKEN_TTL_S) },
      });
      recorder = recordSecrets(app.emulator!.port);
      browser = await launchChromium();
      context = await browser.newContext();
    }, 30_000);

    afterAll(async () => {
      recorder?.stop();
      await context?.close();
      await browser?.close();
      await app?.close();
    });

    it('runs on the Express major it names', () => {
      expect(`express ${major}`).toBe(name);
    });

    const sessionCookie = async (): Promise<Cookie | undefined> =>
      (await context.cookies()).find((c) => c.name === 'sso_session');

    it('signs in, survives a reload and a token refresh, and signs out', async () => {
      const started = Date.now();
      const { appUrl, ssoUrl } = app;
      const emulator = app.emulator!;
      const page = await context.newPage();

      // A protected page sends a signed-out visitor to the SSO's sign-in page.
      await page.goto(`${appUrl}/profile`);
      expect(page.url().startsWith(`${ssoUrl}/sso/oauth2/?`)).toBe(true);
      expect(await page.locator('h1').textContent()).toBe('Sign in');

      // Pick a user (not the preselected one) and submit: back on the profile, signed in as that user.
      await page.check('input[name="user"][value="usr-bob"]');
      await Promise.all([page.waitForURL(`${appUrl}/profile`), page.click('#sign-in')]);
      const signedInAt = Date.now();
      expect(await page.textContent('#user-name')).toBe('bob');
      expect(await page.textContent('#user-email')).toBe('bob@example.com');
      const accessKey = ((await (await context.request.get(`${appUrl}/api/me`)).json()) as { accessKey: string })
        .accessKey;
      expect(await page.textContent('#access-key')).toBe(`${accessKey.slice(0, 4)}…${accessKey.slice(-2)}`);
      // The profile shows the answer of a cloud API call signed with the user's temporary keys.
      expect(await page.locator('#instances li').count()).toBeGreaterThan(0);
      expect(emulator.counts.iam).toBeGreaterThan(0);
      await page.screenshot({ path: path.join(OUT_DIR, 'profile.png'), fullPage: true });

      // The browser holds one session cookie: HttpOnly, SameSite=Lax, and no token or key in it.
      const cookies = await context.cookies();
      expect(cookies.map((c) => c.name)).toEqual(['sso_session']); // the login transaction cookie is gone
      expect(cookies[0]).toMatchObject({
        domain: 'localhost',
        path: '/',
        httpOnly: true,
        sameSite: 'Lax',
        secure: false,
      });
      expect(recorder.accessTokens.size).toBe(1);
      for (const secret of recorder.secrets) for (const cookie of cookies) expect(cookie.value).not.toContain(secret);

      // A reload is still signed in, without refreshing.
      await page.reload();
      expect(await page.textContent('#user-name')).toBe('bob');
      expect(emulator.counts.refresh_token).toBe(0);
      const cookieBefore = (await sessionCookie())!.value;

      // Past the access token's lifetime, a reload is still signed in: the tokens were refreshed.
      await sleep(Math.max(0, signedInAt + TOKEN_TTL_S * 1000 + 300 - Date.now()));
      await page.reload();
      expect(page.url()).toBe(`${appUrl}/profile`);
      expect(await page.textContent('#user-name')).toBe('bob');
      expect(emulator.counts.refresh_token).toBe(1);
      expect(recorder.accessTokens.size).toBe(2);
      const refreshed = (await sessionCookie())!;
      expect(refreshed.value).not.toBe(cookieBefore); // the new tokens are in a rewritten cookie…
      expect(refreshed).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
      for (const secret of recorder.secrets) expect(refreshed.value).not.toContain(secret); // …sealed like the first

      // Sign out: the session cookie is gone and the profile asks to sign in again.
      await Promise.all([page.waitForURL(`${appUrl}/`), page.click('#sign-out')]);
      expect(await page.locator('#sign-in').textContent()).toBe('Sign in');
      expect(await sessionCookie()).toBeUndefined();
      await page.goto(`${appUrl}/profile`);
      expect(page.url().startsWith(`${ssoUrl}/sso/oauth2/?`)).toBe(true);
      expect(await page.locator('#sign-in').isVisible()).toBe(true);

      fs.writeFileSync(
        MARKER,
        `${JSON.stringify({ at: new Date().toISOString(), chromium: browser.version(), ms: Date.now() - started })}\n`,
      );
    }, 60_000);
  },
);
