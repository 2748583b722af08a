import request from 'supertest';
import type { Express } from 'express';
import type { Emulator } from '../../lib/testing';
import { EXPRESS_VERSIONS, cookiesFrom, createTestApp, setCookieOf, signIn, startTestEmulator } from '../helpers/app';

// A cross-site GET /logout must not end the session; it gets a confirmation
// page whose button POSTs from the app's own origin. Cross-site POSTs are refused (403).

const NAVIGATE = {
  'Sec-Fetch-Mode': 'navigate',
  'Sec-Fetch-Dest': 'document',
  Accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
};
const APP_ORIGIN = 'http://app.test';

describe.each(EXPRESS_VERSIONS)('logout from another site (%s)', (_name, express) => {
  let sso: Emulator;
  let app: Express;

  beforeAll(async () => {
    sso = await startTestEmulator();
    app = createTestApp(express, sso);
  });
  afterAll(() => sso.close());

  const stillSignedIn = async (cookie: string): Promise<void> => {
    await request(app).get('/api/me').set('Cookie', cookie).expect(200);
  };
  const signedOut = async (cookie: string): Promise<void> => {
    await request(app).get('/api/me').set('Cookie', cookie).expect(401);
  };
  const clearsSession = (res: request.Response): boolean =>
    setCookieOf(res).some((c) => c.startsWith('sso_session=') && /Max-Age=0/.test(c));

  it('a cross-site GET navigation gets a confirmation page and keeps the session', async () => {
    const { cookie } = await signIn(app, sso);
    const res = await request(app)
      .get('/logout?returnTo=/bye')
      .set('Cookie', cookie)
      .set(NAVIGATE)
      .set('Sec-Fetch-Site', 'cross-site')
      .expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('<form method="post" action="/logout?returnTo=/bye">');
    expect(res.text).not.toMatch(/<script|\son\w+=|style=/i);
    expect(res.text).not.toContain(cookie.split('=')[1]);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(setCookieOf(res)).toEqual([]);
    await stillSignedIn(cookie);
  });

  it.each([
    ['Sec-Fetch-Site: same-site', { 'Sec-Fetch-Site': 'same-site' }],
    ['no Sec-Fetch-Site, a foreign Origin', { Origin: 'https://evil.test' }],
    ['no Sec-Fetch-Site, a foreign Referer', { Referer: 'https://evil.test/page' }],
    ['no Sec-Fetch-Site, Origin null', { Origin: 'null' }],
    // Plain http (no Fetch Metadata) with Referrer-Policy: no-referrer: nothing says where it came from.
    ['no Sec-Fetch-Site, Origin or Referer at all', {}],
  ])('%s: confirmation page, session kept', async (_label, headers) => {
    const { cookie } = await signIn(app, sso);
    const res = await request(app)
      .get('/logout')
      .set('Cookie', cookie)
      .set({ Accept: NAVIGATE.Accept })
      .set(headers)
      .expect(200);
    expect(res.text).toContain('<form method="post" action="/logout">');
    expect(clearsSession(res)).toBe(false);
    await stillSignedIn(cookie);
  });

  it("the page's button (a same-origin POST) signs out and goes to returnTo", async () => {
    const { cookie } = await signIn(app, sso);
    const res = await request(app)
      .post('/logout?returnTo=/bye')
      .set('Cookie', cookie)
      .set('Sec-Fetch-Site', 'same-origin')
      .set('Origin', APP_ORIGIN)
      .expect(302);
    expect(res.headers.location).toBe('/bye');
    expect(clearsSession(res)).toBe(true);
    await signedOut(cookie);
  });

  it.each([
    ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.test' }],
    ['a foreign Origin', { Origin: 'https://evil.test' }],
    ['Origin null', { Origin: 'null' }],
    ['a foreign Referer', { Referer: 'https://evil.test/' }],
  ])('a POST with %s is refused with 403 JSON, session kept', async (_label, headers) => {
    const { cookie } = await signIn(app, sso);
    const res = await request(app).post('/logout').set('Cookie', cookie).set(headers).expect(403);
    expect(res.body).toEqual({
      error: 'cross_site_request',
      message: 'Cross-site logout refused; sign out from the app itself',
    });
    expect(clearsSession(res)).toBe(false);
    await stillSignedIn(cookie);
  });

  it('a GET with no browser signal that is not a navigation (an <img> on plain http, curl) gets 403, session kept', async () => {
    const { cookie } = await signIn(app, sso);
    for (const accept of ['image/avif,image/webp,*/*', '*/*']) {
      const res = await request(app).get('/logout').set('Cookie', cookie).set('Accept', accept).expect(403);
      expect(res.body.error).toBe('cross_site_request');
      expect(clearsSession(res)).toBe(false);
    }
    await stillSignedIn(cookie);
  });

  it('a cross-site API GET (not a navigation) gets 403 JSON, session kept', async () => {
    const { cookie } = await signIn(app, sso);
    const res = await request(app)
      .get('/logout')
      .set('Cookie', cookie)
      .set('Sec-Fetch-Site', 'cross-site')
      .set('Accept', 'application/json')
      .expect(403);
    expect(res.body.error).toBe('cross_site_request');
    await stillSignedIn(cookie);
  });

  it.each([
    ['GET, Sec-Fetch-Site: same-origin', 'get', { 'Sec-Fetch-Site': 'same-origin', ...NAVIGATE }],
    ['GET, Sec-Fetch-Site: none (typed in the address bar)', 'get', { 'Sec-Fetch-Site': 'none', ...NAVIGATE }],
    ['GET, same-origin Referer', 'get', { Referer: `${APP_ORIGIN}/profile` }],
    ['POST, same Origin', 'post', { Origin: APP_ORIGIN }],
    // Browsers send Origin on every POST (null when hidden): a POST without one is not browser-sent.
    ['POST without any browser header (curl)', 'post', {}],
  ] as const)('%s signs out as before', async (_label, method, headers) => {
    const { cookie } = await signIn(app, sso);
    const res = await request(app)[method]('/logout').set('Cookie', cookie).set(headers).expect(302);
    expect(res.headers.location).toBe('/');
    expect(cookiesFrom(setCookieOf(res), cookie)).toBe('');
    await signedOut(cookie);
  });
});
