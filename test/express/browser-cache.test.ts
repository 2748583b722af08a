import request from 'supertest';
import type { Emulator } from '../../lib/testing';
import { resolveConfig } from '../../lib/config';
import { EXPRESS_VERSIONS, createTestApp, signIn, startTestEmulator } from '../helpers/app';
import { testOptions } from '../helpers/options';

// Issue 20, section 3: after sign-out, Back must not show a signed-in page from the HTTP cache.

describe.each(EXPRESS_VERSIONS)('browser cache (%s)', (_name, express) => {
  let sso: Emulator;
  beforeAll(async () => {
    sso = await startTestEmulator();
  });
  afterAll(() => sso.close());

  it('answers authenticated requests with Cache-Control: no-store (pages and APIs)', async () => {
    const app = createTestApp(express, sso);
    const { cookie } = await signIn(app, sso);
    for (const path of ['/page', '/api/me', '/guarded']) {
      const res = await request(app).get(path).set('Cookie', cookie).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('leaves signed-out answers to the app (a public page stays cacheable)', async () => {
    const app = createTestApp(express, sso, { authRequired: false });
    const res = await request(app).get('/public').expect(200);
    expect(res.headers['cache-control']).toBeUndefined();
  });

  it('lets the app set its own Cache-Control on an authenticated response', async () => {
    const app = createTestApp(express, sso, {}, (a) =>
      a.get('/cached', (_req, res) => res.set('Cache-Control', 'private, max-age=60').send('ok')),
    );
    const { cookie } = await signIn(app, sso);
    const res = await request(app).get('/cached').set('Cookie', cookie).expect(200);
    expect(res.headers['cache-control']).toBe('private, max-age=60');
  });

  it('noStore: false sends no Cache-Control', async () => {
    const app = createTestApp(express, sso, { noStore: false });
    const { cookie } = await signIn(app, sso);
    const res = await request(app).get('/page').set('Cookie', cookie).expect(200);
    expect(res.headers['cache-control']).toBeUndefined();
  });

  it('logout answers with Clear-Site-Data: "cache"', async () => {
    const app = createTestApp(express, sso);
    const { cookie } = await signIn(app, sso);
    const res = await request(app)
      .post('/logout')
      .set('Cookie', cookie)
      .set('Sec-Fetch-Site', 'same-origin')
      .expect(302);
    expect(res.headers['clear-site-data']).toBe('"cache"');
  });

  it('req.sso.revokeSession() answers with Clear-Site-Data: "cache" too', async () => {
    const app = createTestApp(express, sso, {}, (a) =>
      a.post('/my-logout', async (req, res) => {
        await req.sso.revokeSession();
        res.send('bye');
      }),
    );
    const { cookie } = await signIn(app, sso);
    const res = await request(app).post('/my-logout').set('Cookie', cookie).expect(200);
    expect(res.headers['clear-site-data']).toBe('"cache"');
  });
});

describe('noStore option', () => {
  it('defaults to true and refuses a non-boolean, naming the option', () => {
    expect(resolveConfig(testOptions(), {}).noStore).toBe(true);
    expect(() => resolveConfig(testOptions({ noStore: 'yes' as unknown as boolean }), {})).toThrow(
      /^"noStore" must be true or false; received "yes"$/,
    );
  });
});
