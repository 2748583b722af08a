import http from 'node:http';
import net from 'node:net';
import type { ErrorRequestHandler, Express, Request } from 'express';
import session from 'express-session';
import passport from 'passport';
import request from 'supertest';
import { SsoIncomingMessage } from '../../lib';
import { requiresAuth } from '../../lib/express/middleware';
import type { Emulator } from '../../lib/testing';
import { EXPRESS_VERSIONS, createTestApp, signIn, startTestEmulator } from '../helpers/app';

/** What a route saw of the request: its own keys and how `user` is held. */
function shapeOf(req: Request): Record<string, unknown> {
  const keys = Object.keys(req);
  const desc = Object.getOwnPropertyDescriptor(req, 'user');
  return {
    hasSso: keys.includes('sso'),
    hasUser: keys.includes('user'),
    userIsData: desc !== undefined && 'value' in desc && desc.writable === true && desc.enumerable === true,
    // Express swaps every request's prototype for its own: the class is gone, its fields stay.
    instance: req instanceof SsoIncomingMessage,
  };
}

describe('SsoIncomingMessage', () => {
  it('is an IncomingMessage born with own, enumerable, writable sso and user set to undefined', () => {
    const req = new SsoIncomingMessage(new net.Socket());
    expect(req).toBeInstanceOf(http.IncomingMessage);
    expect(Object.keys(req)).toEqual(expect.arrayContaining(['sso', 'user']));
    for (const name of ['sso', 'user']) {
      expect(Object.getOwnPropertyDescriptor(req, name)).toEqual({
        value: undefined,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
  });
});

describe.each(EXPRESS_VERSIONS)('SsoIncomingMessage served by http.createServer (%s)', (_name, express) => {
  let sso: Emulator;
  beforeAll(async () => {
    sso = await startTestEmulator();
  });
  afterAll(() => sso.close());

  /** The test app behind a server built with the declared request class, and behind a plain one. */
  function servers(app: Express): { declared: http.Server; plain: http.Server } {
    return {
      declared: http.createServer({ IncomingMessage: SsoIncomingMessage }, app),
      plain: http.createServer(app),
    };
  }

  const withShape = (app: Express): void => {
    app.get('/shape', (req, res) => res.json({ ...shapeOf(req), signedIn: req.sso.isAuthenticated() }));
  };

  it('answers exactly as a plain server, signed in and signed out', async () => {
    const app = createTestApp(express, sso, { authRequired: false });
    const { declared, plain } = servers(app);
    const { cookie } = await signIn(app, sso);
    for (const [path, cookies] of [
      ['/api/me', cookie],
      ['/public', ''],
      ['/guarded', ''],
    ] as const) {
      const a = await request(declared).get(path).set('Cookie', cookies).set('Accept', 'application/json');
      const b = await request(plain).get(path).set('Cookie', cookies).set('Accept', 'application/json');
      expect({ status: a.status, body: a.body as unknown }).toEqual({ status: b.status, body: b.body as unknown });
    }
    const me = await request(declared).get('/api/me').set('Cookie', cookie).expect(200);
    expect((me.body as { reqUser: { user_id: string } }).reqUser.user_id).toBe(
      (me.body as { user: { user_id: string } }).user.user_id,
    );
  });

  it('keeps req.sso and req.user ordinary own properties (Object.keys, descriptors) where a plain server has them', async () => {
    const app = createTestApp(express, sso, { authRequired: false }, withShape);
    const { declared, plain } = servers(app);
    const { cookie } = await signIn(app, sso);
    const signedIn = await request(declared).get('/shape').set('Cookie', cookie).expect(200);
    expect(signedIn.body).toEqual({ hasSso: true, hasUser: true, userIsData: true, instance: false, signedIn: true });
    const plainSignedIn = await request(plain).get('/shape').set('Cookie', cookie).expect(200);
    expect(plainSignedIn.body).toEqual({
      hasSso: true,
      hasUser: true,
      userIsData: true,
      instance: false,
      signedIn: true,
    });
    // Signed out: a plain request has no `user` at all; a declared one has it, undefined.
    const signedOut = await request(declared).get('/shape').expect(200);
    expect(signedOut.body).toMatchObject({ hasSso: true, hasUser: true, signedIn: false });
    const plainSignedOut = await request(plain).get('/shape').expect(200);
    expect(plainSignedOut.body).toMatchObject({ hasSso: true, hasUser: false, signedIn: false });
  });

  it("lets `delete req.user` and passport's logout (req.user = null) sign the user out of req as before", async () => {
    const app = createTestApp(express, sso, { authRequired: false }, (a) => {
      a.get('/delete-user', (req, res) => {
        delete req.user;
        res.json({ user: req.user ?? 'gone', inReq: 'user' in req, sso: req.sso.isAuthenticated() });
      });
    });
    const { declared } = servers(app);
    const { cookie } = await signIn(app, sso);
    const res = await request(declared).get('/delete-user').set('Cookie', cookie).expect(200);
    expect(res.body).toEqual({ user: 'gone', inReq: false, sso: true });
  });

  it('works with real passport and express-session in front of auth(): req.logout() clears req.user', async () => {
    const app = express();
    app.use(session({ secret: 'a-passport-session-secret', resave: false, saveUninitialized: false }));
    app.use(passport.initialize());
    app.use(passport.session());
    const guarded = createTestApp(express, sso, { authRequired: false }, (a) => {
      a.get('/passport/logout', (req, res, next) => {
        const before = (req.user as { user_id?: string } | undefined)?.user_id ?? null;
        req.logout((err) => {
          if (err) return next(err);
          res.json({ before, after: req.user ?? null, authenticated: req.isAuthenticated() });
        });
      });
    });
    app.use(guarded);
    const { cookie } = await signIn(guarded, sso);
    const server = http.createServer({ IncomingMessage: SsoIncomingMessage }, app);
    const res = await request(server).get('/passport/logout').set('Cookie', cookie).expect(200);
    const body = res.body as { before: string | null; after: unknown; authenticated: boolean };
    expect(body.before).toMatch(/\S/);
    expect(body.after).toBeNull();
    expect(body.authenticated).toBe(false);
  });

  it('still reports requiresAuth() without auth() (req.sso declared but unset) as a setup error', async () => {
    const app = express();
    app.get('/guarded', requiresAuth(), (_req, res) => res.send('never'));
    const onError: ErrorRequestHandler = (err: { code?: string }, _req, res, _next) => {
      res.status(500).json({ code: err.code });
    };
    app.use(onError);
    const res = await request(http.createServer({ IncomingMessage: SsoIncomingMessage }, app)).get('/guarded');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ code: 'invalid_option' });
  });
});
