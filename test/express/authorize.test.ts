import type { Express, NextFunction, Request, Response } from 'express';
import request from 'supertest';
import type { SsoGuardOptions } from '../../lib/options';
import type { SsoUser } from '../../lib/sso/types';
import type { Emulator } from '../../lib/testing';
import {
  EXPRESS_VERSIONS,
  cookiesFrom,
  createTestApp,
  setCookieOf,
  signIn,
  startTestEmulator,
  type ExpressFactory,
} from '../helpers/app';

const HTML = { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe.each(EXPRESS_VERSIONS)('authorize (%s)', (_name, express) => {
  let sso: Emulator;
  let logins: unknown[];
  let handled: unknown[];
  beforeEach(async () => {
    sso = await startTestEmulator();
    logins = [];
    handled = [];
  });
  afterEach(() => sso.close());

  const make = (options: SsoGuardOptions): Express =>
    createTestApp(
      express as ExpressFactory,
      sso,
      { events: { login: (e) => void logins.push(e) }, ...options },
      (app) => {
        app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
          handled.push(err);
          res.status(599).send('app error handler');
        });
      },
    );

  /** Runs /login and the SSO, then returns the /callback request to send (with the transaction cookie). */
  async function toCallback(app: Express) {
    const login = await request(app).get('/login?returnTo=/api/me').expect(302);
    const approved = await fetch(String(login.headers.location), { redirect: 'manual' });
    const back = new URL(approved.headers.get('location')!);
    return { path: `${back.pathname}${back.search}`, cookie: cookiesFrom(setCookieOf(login)) };
  }
  const sessionCookies = (res: request.Response): string[] =>
    setCookieOf(res).filter((l) => l.startsWith('sso_session=') && !/Max-Age=0/.test(l));

  it('is called once per sign-in with the check_token user and the request (sync true admits)', async () => {
    const seen: Array<[SsoUser, string]> = [];
    const app = make({ authorize: (user, req) => (seen.push([user, req.path]), true) });
    const { cookie } = await signIn(app, sso);
    await request(app).get('/api/me').set('Cookie', cookie).expect(200);
    await request(app).get('/api/me').set('Cookie', cookie).expect(200);
    expect(seen.map(([u, path]) => [u.user_id, path])).toEqual([['usr-alice', '/callback']]);
    expect(logins).toEqual([{ userId: 'usr-alice', entry: 'callback' }]);
    expect(sso.counts.check_token).toBe(1); // the callback's check is cached for the next requests
  });

  it('async false refuses: 403 page for a navigation, no session, no login event', async () => {
    const app = make({ authorize: async (user) => user.user_id !== 'usr-alice' });
    const { path, cookie } = await toCallback(app);
    const res = await request(app).get(path).set('Cookie', cookie).set(HTML).expect(403).expect('Content-Type', /html/);
    expect(res.text).toContain('This account may not sign in to this application');
    expect(sessionCookies(res)).toEqual([]);
    expect(logins).toEqual([]);
  });

  it('false refuses with 403 JSON for an API call; anything but true refuses', async () => {
    const app = make({ authorize: (() => undefined) as unknown as SsoGuardOptions['authorize'] });
    const { path, cookie } = await toCallback(app);
    const res = await request(app)
      .get(path)
      .set('Cookie', cookie)
      .set('Accept', 'application/json')
      .expect(403)
      .expect('Content-Type', /json/);
    expect(res.body).toEqual({ error: 'forbidden', message: 'This account may not sign in to this application' });
    expect(sessionCookies(res)).toEqual([]);
    expect(logins).toEqual([]);
  });

  it.each([
    [
      'throws',
      () => {
        throw new Error('directory down');
      },
    ],
    ['rejects', async () => Promise.reject(new Error('directory down'))],
  ])('that %s passes the error to next(err) and creates no session', async (_how, authorize) => {
    const app = make({ authorize: authorize as SsoGuardOptions['authorize'] });
    const { path, cookie } = await toCallback(app);
    const res = await request(app).get(path).set('Cookie', cookie).expect(599);
    expect((handled[0] as Error).message).toBe('directory down');
    expect(sessionCookies(res)).toEqual([]);
    expect(logins).toEqual([]);
  });

  describe('Bearer tokens', () => {
    it('is called once per token on first sight; a refused token gets 403 every time', async () => {
      const seen: string[] = [];
      const app = make({ bearer: true, authorize: (user) => (seen.push(user.user_id), user.user_id === 'usr-bob') });
      const alice = `Bearer ${sso.issueTokens('usr-alice').access_token}`;
      const bob = `Bearer ${sso.issueTokens('usr-bob').access_token}`;
      for (let i = 0; i < 2; i++) {
        const res = await request(app).get('/api/me').set('Authorization', alice).expect(403);
        expect(res.body.error).toBe('forbidden');
        await request(app).get('/api/me').set('Authorization', bob).expect(200);
      }
      expect(seen).toEqual(['usr-alice', 'usr-bob']);
    });

    it('a throwing authorize goes to next(err)', async () => {
      const app = make({
        bearer: true,
        authorize: () => {
          throw new Error('policy engine down');
        },
      });
      await request(app).get('/api/me').set('Authorization', `Bearer ${sso.issueTokens().access_token}`).expect(599);
      expect((handled[0] as Error).message).toBe('policy engine down');
    });
  });
});
