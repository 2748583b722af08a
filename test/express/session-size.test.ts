import request from 'supertest';
import type { Express } from 'express';
import type { Emulator } from '../../lib/testing';
import { EXPRESS_VERSIONS, cookiesFrom, createTestApp, setCookieOf, startTestEmulator } from '../helpers/app';

// A session too large for its cookie is refused at sign-in with a clear 5xx,
// never written in chunks the reader will not read back (a sign-in loop).

describe.each(EXPRESS_VERSIONS)('a token answer too large for the session cookie (%s)', (_name, express) => {
  let sso: Emulator;
  let app: Express;

  beforeAll(async () => {
    sso = await startTestEmulator();
    app = createTestApp(express, sso);
  });
  afterAll(() => sso.close());
  afterEach(() => sso.clearFaults());

  async function callbackWith(accessTokenLength: number): Promise<request.Response> {
    const login = await request(app).get('/login?returnTo=/page').expect(302);
    const back = new URL(
      (await fetch(login.headers.location as string, { redirect: 'manual' })).headers.get('location')!,
    );
    const body = JSON.stringify({
      access_token: 'T'.repeat(accessTokenLength),
      refresh_token: 'R'.repeat(64),
      token_type: 'Bearer',
      expires_in: 3600,
    });
    sso.setFault('token', { type: 'custom', status: 200, body }, { times: 1 });
    return request(app)
      .get(back.pathname + back.search)
      .set('Cookie', cookiesFrom(setCookieOf(login)))
      .set('Accept', 'text/html');
  }

  it('is refused at sign-in with a short 502, no session cookie written, and no loop', async () => {
    const res = await callbackWith(12_000);
    expect(res.status).toBe(502);
    expect(res.text).toContain('too large for a session cookie');
    expect(res.text).not.toContain('TTTT');
    expect(res.text.length).toBeLessThan(600);
    expect(setCookieOf(res).filter((c) => c.startsWith('sso_session=') || c.startsWith('sso_session.'))).toEqual([]);
    expect(res.headers.location).toBeUndefined();
  });

  it('a large session under the limit is written in chunks and read back', async () => {
    const res = await callbackWith(4_000);
    expect(res.status).toBe(302);
    const names = setCookieOf(res)
      .filter((c) => c.startsWith('sso_session.') && !/Max-Age=0/.test(c))
      .map((c) => c.split('=')[0]);
    expect(names).toEqual(['sso_session.0', 'sso_session.1']);
    // The token is the emulator's fake: reading the cookie back is what matters (check_token then refuses it).
    const page = await request(app)
      .get('/page')
      .set('Cookie', cookiesFrom(setCookieOf(res)))
      .set('Accept', 'application/json');
    expect(page.status).not.toBe(500);
  });
});
