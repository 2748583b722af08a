import request from 'supertest';
import type { Express } from 'express';
import type { Emulator } from '../../lib/testing';
import { EXPRESS_VERSIONS, cookiesFrom, createTestApp, setCookieOf, signIn, startTestEmulator } from '../helpers/app';
import { CLIENT_ID } from '../helpers/options';
import payloads from '../fixtures/open-redirect-payloads.json';

/** Starts a login and returns the authorize URL's params and the transaction cookie. */
async function beginLogin(app: Express, returnTo?: string, cookie = '') {
  const res = await request(app)
    .get(returnTo === undefined ? '/login' : `/login?returnTo=${encodeURIComponent(returnTo)}`)
    .set('Cookie', cookie)
    .expect(302);
  const url = new URL(res.headers.location as string);
  return { url, cookie: cookiesFrom(setCookieOf(res)), setCookie: setCookieOf(res) };
}

/** Lets the emulator approve an authorize URL and returns the callback path + query. */
async function approve(url: URL): Promise<string> {
  const res = await fetch(url, { redirect: 'manual' });
  const back = new URL(res.headers.get('location')!);
  return back.pathname + back.search;
}

describe.each(EXPRESS_VERSIONS)('routes (%s)', (_name, express) => {
  let sso: Emulator;
  let app: Express;

  beforeAll(async () => {
    sso = await startTestEmulator();
    app = createTestApp(express, sso);
  });
  afterAll(() => sso.close());
  beforeEach(() => {
    sso.clearFaults();
    sso.resetCounts();
  });

  describe('/login', () => {
    it('redirects to the SSO authorize endpoint with client_id, response_type, redirect_uri and a fresh state', async () => {
      const { url, setCookie } = await beginLogin(app, '/profile');
      expect(url.origin + url.pathname).toBe(`${sso.url}/sso/oauth2/`);
      expect(url.searchParams.get('client_id')).toBe(CLIENT_ID);
      expect(url.searchParams.get('response_type')).toBe('code');
      expect(url.searchParams.get('redirect_uri')).toBe('http://app.test/callback');
      const state = url.searchParams.get('state')!;
      expect(Buffer.from(state, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
      // The transaction cookie, and the slot index (transactions are bounded).
      expect(setCookie).toHaveLength(2);
      expect(setCookie[0]).toMatch(
        /^sso_session_txn\.[\w-]{8}=[\w-]+; Max-Age=600; Path=\/callback; HttpOnly; SameSite=Lax$/,
      );
      expect(setCookie[1]).toMatch(
        /^sso_session_txn_slots=[\w-]{8}-\d+; Max-Age=600; Path=\/; HttpOnly; SameSite=Lax$/,
      );
      expect(setCookie.join()).not.toContain(state);
      const again = await beginLogin(app, '/profile');
      expect(again.url.searchParams.get('state')).not.toBe(state);
    });

    it('lets two tabs log in at once', async () => {
      const a = await beginLogin(app, '/a');
      const b = await beginLogin(app, '/b', a.cookie);
      const both = `${a.cookie}; ${b.cookie}`;
      const cbB = await request(app)
        .get(await approve(b.url))
        .set('Cookie', both)
        .expect(302);
      expect(cbB.headers.location).toBe('/b');
      const cbA = await request(app)
        .get(await approve(a.url))
        .set('Cookie', both)
        .expect(302);
      expect(cbA.headers.location).toBe('/a');
      expect(setCookieOf(cbA).some((c) => c.startsWith('sso_session='))).toBe(true);
    });
  });

  describe('/callback', () => {
    it('exchanges the code once, sets the session and redirects to returnTo', async () => {
      const { url, cookie } = await beginLogin(app, '/profile?tab=1');
      const cb = await request(app)
        .get(await approve(url))
        .set('Cookie', cookie)
        .expect(302);
      expect(cb.headers.location).toBe('/profile?tab=1');
      expect(sso.counts.token).toBe(1);
      const set = setCookieOf(cb);
      expect(set.find((c) => c.startsWith('sso_session='))).toMatch(/HttpOnly; SameSite=Lax$/);
      expect(set.find((c) => c.startsWith('sso_session_txn.'))).toMatch(/Max-Age=0/);
      const me = await request(app).get('/api/me').set('Cookie', cookiesFrom(set)).expect(200);
      expect(me.body.user.user_id).toBeTruthy();
    });

    async function expectRefused(path: string, cookie: string, status = 400) {
      const res = await request(app).get(path).set('Cookie', cookie).set('Accept', 'application/json');
      expect(res.status).toBe(status);
      expect(res.body.error).toBeTruthy();
      expect(setCookieOf(res).some((c) => c.startsWith('sso_session=') && !/Max-Age=0/.test(c))).toBe(false);
      return res;
    }

    it('refuses a forged state, a missing state and a foreign state with 400 and no session', async () => {
      const { url, cookie } = await beginLogin(app);
      const path = await approve(url);
      const code = new URL(path, 'http://x').searchParams.get('code')!;
      expect((await expectRefused(`/callback?code=${code}&state=forged`, cookie)).body.error).toBe('invalid_state');
      expect((await expectRefused(`/callback?code=${code}`, cookie)).body.error).toBe('invalid_state');
      const other = await beginLogin(app);
      expect(
        (await expectRefused(`/callback?code=${code}&state=${other.url.searchParams.get('state')}`, cookie)).body.error,
      ).toBe('invalid_state');
      expect(sso.counts.token).toBe(0);
    });

    it('uses a state only once, even when the browser keeps the cookie', async () => {
      const { url, cookie } = await beginLogin(app);
      const path = await approve(url);
      await request(app).get(path).set('Cookie', cookie).expect(302);
      expect((await expectRefused(path, cookie)).body.error).toBe('invalid_state');
      expect(sso.counts.token).toBe(1);
    });

    it('answers error=access_denied with 400 and clears the transaction', async () => {
      const { url, cookie } = await beginLogin(app);
      const res = await expectRefused(`/callback?error=access_denied&state=${url.searchParams.get('state')}`, cookie);
      expect(res.body).toEqual({ error: 'access_denied', message: 'Sign-in was not completed (access_denied)' });
      expect(setCookieOf(res).some((c) => c.startsWith('sso_session_txn.') && /Max-Age=0/.test(c))).toBe(true);
    });

    it('refuses repeated and oversized parameters', async () => {
      const { url, cookie } = await beginLogin(app);
      const state = url.searchParams.get('state')!;
      expect((await expectRefused(`/callback?code=a&code=b&state=${state}`, cookie)).body.message).toBe(
        'Parameter "code" is repeated',
      );
      expect((await expectRefused(`/callback?code=a&state=${state}&state=${state}`, cookie)).body.error).toBe(
        'invalid_request',
      );
      expect((await expectRefused(`/callback?code=${'c'.repeat(3000)}&state=${state}`, cookie)).body.error).toBe(
        'invalid_request',
      );
      expect((await expectRefused(`/callback?code=a&state=${state}&x=${'y'.repeat(5000)}`, cookie)).body.error).toBe(
        'invalid_request',
      );
      expect(sso.counts.token).toBe(0);
    });

    it('answers a refused or replayed code with 400', async () => {
      const { url, cookie } = await beginLogin(app);
      const state = url.searchParams.get('state')!;
      const res = await expectRefused(`/callback?code=not-a-code&state=${state}`, cookie);
      expect(res.body.error).toBe('code_rejected');
      // Replay: a valid code used by one login, presented again with a second login's state.
      const first = await beginLogin(app);
      const path = await approve(first.url);
      await request(app).get(path).set('Cookie', first.cookie).expect(302);
      const second = await beginLogin(app);
      const code = new URL(path, 'http://x').searchParams.get('code');
      expect(
        (await expectRefused(`/callback?code=${code}&state=${second.url.searchParams.get('state')}`, second.cookie))
          .body.error,
      ).toBe('code_rejected');
    });

    it('renders a short HTML page for browsers, never the SSO page', async () => {
      const { url, cookie } = await beginLogin(app);
      sso.setFault('token', {
        type: 'status',
        status: 500,
        body: '<html>SSO internal stack trace</html>',
        contentType: 'text/html',
      });
      const res = await request(app)
        .get(`${await approve(url)}`)
        .set('Cookie', cookie)
        .set('Accept', 'text/html')
        .expect(502);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.text).not.toContain('stack trace');
      expect(res.text.length).toBeLessThan(400);
    });

    // Token endpoint faults (page and API, timing, recovery) are in test/integration/faults.test.ts.

    it('maps an HTTP 200 ret_code answer to a refused code', async () => {
      const { url, cookie } = await beginLogin(app);
      const path = await approve(url);
      sso.setFault('token', { type: 'retCode', retCode: 2100, message: 'bad code' });
      expect((await expectRefused(path, cookie)).body.error).toBe('code_rejected');
    });
  });

  describe('returnTo', () => {
    const malicious = payloads.malicious.map((p) => p.value);

    it(`never redirects off-origin after login, for ${malicious.length} known payloads`, async () => {
      for (const value of malicious) {
        const { url, cookie } = await beginLogin(app, value);
        const cb = await request(app)
          .get(await approve(url))
          .set('Cookie', cookie)
          .expect(302);
        const location = cb.headers.location as string;
        expect(new URL(location, 'http://app.test/callback').origin).toBe('http://app.test');
        expect(location).toBe('/');
      }
    }, 120_000);

    it('never redirects off-origin after logout', async () => {
      for (const value of malicious) {
        const res = await request(app)
          .get(`/logout?returnTo=${encodeURIComponent(value)}`)
          .set('Sec-Fetch-Site', 'same-origin')
          .expect(302);
        expect(res.headers.location).toBe('/');
      }
    }, 60_000);
  });

  describe('/logout', () => {
    it('clears the session, drops its cache entry and refuses the old cookie', async () => {
      const { cookie } = await signIn(app, sso);
      await request(app).get('/api/me').set('Cookie', cookie).expect(200);
      const out = await request(app)
        .get('/logout?returnTo=/bye')
        .set('Sec-Fetch-Site', 'same-origin')
        .set('Cookie', cookie)
        .expect(302);
      expect(out.headers.location).toBe('/bye');
      expect(setCookieOf(out).find((c) => c.startsWith('sso_session='))).toMatch(/Max-Age=0/);
      sso.resetCounts();
      const replay = await request(app)
        .get('/guarded')
        .set('Cookie', cookie)
        .set('Accept', 'application/json')
        .expect(401);
      expect(replay.body.error).toBe('unauthenticated');
      expect(sso.counts.check_token).toBe(0);
    });

    it('works without a session and makes no SSO call', async () => {
      const res = await request(app).get('/logout').set('Sec-Fetch-Site', 'same-origin').expect(302);
      expect(res.headers.location).toBe('/');
      expect(sso.counts).toEqual({ authorize: 0, token: 0, check_token: 0, refresh_token: 0, iam: 0 });
    });
  });
});
