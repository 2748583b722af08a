/**
 * `revokeUser()` on the middleware (issue 19 §3), real HTTP against the emulator, Express 4 and
 * 5, without a store (in-process). The shared-store behaviour is in test/store/revoke-user.test.ts.
 */
import request from 'supertest';
import type { Express } from 'express';
import { auth, type SsoGuardMiddleware } from '../../lib/express/middleware';
import type { SessionEndEvent } from '../../lib/telemetry/events';
import type { Emulator } from '../../lib/testing';
import { APP_BASE_URL, EXPRESS_VERSIONS, signIn, setCookieOf, startTestEmulator } from '../helpers/app';
import { CLIENT_ID, CLIENT_SECRET, SECRET } from '../helpers/options';

// Several real sign-ins per test: room for a loaded machine.
jest.setTimeout(30_000);

describe.each(EXPRESS_VERSIONS)('revokeUser() (%s, no store)', (_name, expressFactory) => {
  let sso: Emulator;
  beforeAll(async () => {
    sso = await startTestEmulator();
  });
  afterAll(() => sso.close());
  afterEach(() => sso.setOptions({ autoApprove: 'usr-alice' }));

  function app(ended: SessionEndEvent[] = []): Express & { mw: SsoGuardMiddleware } {
    const mw = auth({
      ssoBaseUrl: sso.url,
      appBaseUrl: APP_BASE_URL,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      secret: SECRET,
      events: { sessionEnd: (e) => void ended.push(e) },
    });
    const a = expressFactory();
    a.use(mw);
    a.get('/api/me', (req, res) => res.json({ user: req.sso.user?.user_id ?? null }));
    a.get('/page', (req, res) => res.send(`hello ${req.sso.user?.user_id ?? ''}`));
    return Object.assign(a, { mw });
  }

  const me = (a: Express, cookie: string) => request(a).get('/api/me').set('Cookie', cookie);
  async function signInAs(a: Express, userId: string): Promise<string> {
    sso.setOptions({ autoApprove: userId });
    return (await signIn(a, sso)).cookie;
  }

  it("ends every session of the user (two browsers), not another user's, with a sessionEnd event", async () => {
    const ended: SessionEndEvent[] = [];
    const a = app(ended);
    const [alice1, alice2, bob] = [
      await signInAs(a, 'usr-alice'),
      await signInAs(a, 'usr-alice'),
      await signInAs(a, 'usr-bob'),
    ];
    for (const c of [alice1, alice2, bob]) await me(a, c).expect(200);

    await a.mw.revokeUser('usr-alice');

    const api = await me(a, alice1).expect(401);
    expect(setCookieOf(api).join('\n')).toMatch(/sso_session=;.*Max-Age=0/);
    const page = await request(a).get('/page').set('Cookie', alice2).set('Accept', 'text/html').expect(302);
    expect(page.headers.location).toMatch(/\/login\?returnTo=/);
    expect((await me(a, bob).expect(200)).body.user).toBe('usr-bob');
    expect(ended).toEqual([
      { reason: 'user_revoked', userId: 'usr-alice' },
      { reason: 'user_revoked', userId: 'usr-alice' },
    ]);
  });

  it('a new sign-in right after the revocation works (sign-in times are kept to the millisecond)', async () => {
    const a = app();
    const old = await signInAs(a, 'usr-alice');
    await a.mw.revokeUser('usr-alice');
    const fresh = await signInAs(a, 'usr-alice');
    expect((await me(a, fresh).expect(200)).body.user).toBe('usr-alice');
    await me(a, old).expect(401);
    // Revoked again at once: the session signed in between ends too.
    await a.mw.revokeUser('usr-alice');
    await me(a, fresh).expect(401);
  });

  it('without a store, only this process refuses (documented): another auth() instance does not know', async () => {
    const [a, b] = [app(), app()];
    const cookie = await signInAs(a, 'usr-alice');
    await a.mw.revokeUser('usr-alice');
    await me(a, cookie).expect(401);
    await me(b, cookie).expect(200);
  });

  it('rejects a userId that is not a non-empty string, naming it', async () => {
    const a = app();
    for (const bad of ['', 42, undefined, 'x'.repeat(1025)])
      await expect(a.mw.revokeUser(bad as string)).rejects.toMatchObject({
        code: 'invalid_option',
        message: expect.stringContaining('"userId"'),
      });
  });
});
