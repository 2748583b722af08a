/**
 * Launches in a real browser: Debian's Chromium (playwright-core) against the example app
 * (`launch: true`) and its bundled SSO emulator. A link from another site opens the console
 * launch URL or the SaaS redirect URL; a browser signed in as another user sees the
 * account-switch page, both ways, and switches only by its button.
 *
 * Without /usr/bin/chromium the suite is skipped with a printed reason, unless REQUIRE_BROWSER=1.
 */
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { describeWithBrowser, launchChromium } from '../helpers/chromium';
import { EXAMPLE_VERSIONS, TEST_SECRET, type StartedExample } from './example-app';

describeWithBrowser('the launch browser test').each(EXAMPLE_VERSIONS)(
  'launch in a real browser (Chromium, %s)',
  (_name, start) => {
    let app: StartedExample;
    let browser: Browser;
    const tokens: string[] = [];

    beforeAll(async () => {
      app = await start({ port: 0, env: { SESSION_SECRET: TEST_SECRET } });
      browser = await launchChromium();
    }, 30_000);

    afterAll(async () => {
      await browser?.close();
      await app?.close();
    });

    /** The console launch URL of a user (`authUrl?token=`), or the SaaS redirect to the profile. */
    function launchUrl(userId: string, how: 'console' | 'redirect'): string {
      const t = app.emulator!.issueTokens(userId);
      tokens.push(t.access_token, t.refresh_token!);
      return how === 'console'
        ? `${app.appUrl}/launch?token=${t.access_token}&returnTo=%2Fprofile`
        : `${app.appUrl}/profile?access_token=${t.access_token}&refresh_token=${t.refresh_token!}`;
    }

    /** Follows a link to `url` from another site (an opaque origin), as the console's button does. */
    async function openFromElsewhere(page: Page, url: string): Promise<void> {
      await page.setContent(`<a id="open" href="${url}">Open the app</a>`);
      await Promise.all([page.waitForNavigation(), page.click('#open')]);
      await page.waitForLoadState();
    }

    const userOf = async (page: Page): Promise<string | null> => page.textContent('#user-id');

    async function expectNoToken(page: Page, context: BrowserContext): Promise<void> {
      const seen = [page.url(), await page.content(), ...(await context.cookies()).map((c) => c.value)].join('\n');
      for (const t of tokens) expect(seen).not.toContain(t);
    }

    it.each([
      ['alice by the console, then bob by the SaaS redirect', ['usr-alice', 'console'], ['usr-bob', 'redirect']],
      ['bob by the SaaS redirect, then alice by the console', ['usr-bob', 'redirect'], ['usr-alice', 'console']],
    ] as const)(
      '%s: signed in, then asked before switching',
      async (_label, first, second) => {
        const context = await browser.newContext();
        try {
          const page = await context.newPage();
          await openFromElsewhere(page, launchUrl(first[0], first[1]));
          expect(page.url()).toBe(`${app.appUrl}/profile`);
          expect(await userOf(page)).toBe(first[0]);
          await expectNoToken(page, context);

          // Another user's link: a confirmation page, at a URL without the tokens, naming both.
          await openFromElsewhere(page, launchUrl(second[0], second[1]));
          expect(page.url()).toBe(`${app.appUrl}/launch?confirm`);
          expect(await page.locator('h1').textContent()).toBe('Switch account?');
          const text = await page.locator('body').textContent();
          expect(text).toContain(first[0]);
          expect(text).toContain(second[0]);
          await expectNoToken(page, context);

          // "Stay" keeps the first account.
          await Promise.all([page.waitForURL(`${app.appUrl}/profile`), page.click('a')]);
          expect(await userOf(page)).toBe(first[0]);

          // The button switches (a same-origin POST of the sealed confirmation).
          await openFromElsewhere(page, launchUrl(second[0], second[1]));
          await Promise.all([page.waitForURL(`${app.appUrl}/profile`), page.click('button[type="submit"]')]);
          expect(await userOf(page)).toBe(second[0]);
          await expectNoToken(page, context);
        } finally {
          await context.close();
        }
      },
      60_000,
    );

    /**
     * Launches the app from the emulator's console page (`/console`), as AppCenter's console does:
     * the user's "Open from the console" (`authUrl?token=`) or "SaaS redirect" button.
     */
    async function launchFromConsole(page: Page, userId: string, how: 'console' | 'redirect'): Promise<void> {
      await page.goto(`${app.ssoUrl}/console`);
      const form = page.locator('form.user', { has: page.locator(`input[name="user_id"][value="${userId}"]`) });
      const button = form.locator(`button[name="mode"][value="${how === 'console' ? 'auth' : 'saas'}"]`);
      await Promise.all([page.waitForURL((url) => url.origin === app.appUrl), button.click()]);
      await page.waitForLoadState();
    }

    it.each([
      ['alice from the console, then bob by the SaaS redirect', ['usr-alice', 'console'], ['usr-bob', 'redirect']],
      ['bob by the SaaS redirect, then alice from the console', ['usr-bob', 'redirect'], ['usr-alice', 'console']],
    ] as const)(
      '%s (the emulator console page): asked before switching',
      async (_label, first, second) => {
        const context = await browser.newContext();
        try {
          const page = await context.newPage();
          await launchFromConsole(page, first[0], first[1]);
          expect(page.url().startsWith(`${app.appUrl}/`)).toBe(true);
          expect(page.url()).not.toMatch(/token=/);
          await page.goto(`${app.appUrl}/profile`);
          expect(await userOf(page)).toBe(first[0]);

          await launchFromConsole(page, second[0], second[1]);
          expect(page.url()).toBe(`${app.appUrl}/launch?confirm`);
          expect(await page.locator('h1').textContent()).toBe('Switch account?');
          const text = await page.locator('body').textContent();
          expect(text).toContain(first[0]);
          expect(text).toContain(second[0]);
          expect(await page.content()).not.toMatch(/token=/);

          await Promise.all([
            page.waitForURL((url) => !url.pathname.startsWith('/launch')),
            page.click('button[type="submit"]'),
          ]);
          expect(page.url()).not.toMatch(/token=/);
          await page.goto(`${app.appUrl}/profile`);
          expect(await userOf(page)).toBe(second[0]);
        } finally {
          await context.close();
        }
      },
      60_000,
    );
  },
);
