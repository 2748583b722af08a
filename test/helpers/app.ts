import express5 from 'express';
import type { Express, RequestHandler } from 'express';
import request from 'supertest';
import { auth, requiresAuth } from '../../lib/express/middleware';
import type { SsoGuardOptions } from '../../lib/options';
import { startEmulator } from '../../lib/testing';
import type { Emulator, EmulatorOptions } from '../../lib/testing';
import { CLIENT_ID, CLIENT_SECRET, SECRET } from './options';

const express4 = require('express4') as typeof express5;

/** Both Express majors users are on; integration suites run against each. */
export const EXPRESS_VERSIONS = [
  ['express 4', express4],
  ['express 5', express5],
] as const;
export type ExpressFactory = typeof express5;

export const APP_BASE_URL = 'http://app.test';

/** A real listening emulator configured for the test client. */
export function startTestEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: [`${APP_BASE_URL}/callback`],
    autoApprove: true,
    ...options,
  });
}

/**
 * The app every integration test uses: `auth()` with the given options, then public and
 * protected pages and APIs that echo what the middleware attached.
 */
export function createTestApp(
  expressFactory: ExpressFactory,
  sso: Emulator,
  options: SsoGuardOptions = {},
  extra?: (app: Express) => void,
): Express {
  const app = expressFactory();
  app.use(
    auth({
      ssoBaseUrl: sso.url,
      appBaseUrl: APP_BASE_URL,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      secret: SECRET,
      ...options,
    }),
  );
  const echo: RequestHandler = (req, res) => {
    const signedIn = req.sso.isAuthenticated();
    res.json({
      authenticated: signedIn,
      user: signedIn ? req.sso.user : null,
      credentials: signedIn ? req.sso.credentials : null,
      reqUser: req.user ?? null,
    });
  };
  app.get('/public', echo);
  app.get('/api/me', echo);
  app.get('/page', (req, res) =>
    res.type('html').send(`<p>${req.sso.isAuthenticated() ? req.sso.user.user_name : 'anonymous'}</p>`),
  );
  app.get('/guarded', requiresAuth(), echo);
  app.post('/api/write', echo);
  extra?.(app);
  return app;
}

/** Cookie pairs (`name=value; ...`) to send back, from a response's Set-Cookie lines; deleted ones dropped. */
export function cookiesFrom(setCookie: string[] | string | undefined, previous = ''): string {
  const jar = new Map<string, string>();
  for (const pair of previous.split('; ').filter(Boolean)) jar.set(pair.split('=')[0]!, pair);
  const lines = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie];
  for (const line of lines) {
    const pair = line.split(';')[0]!;
    const name = pair.split('=')[0]!;
    if (/Max-Age=0/.test(line)) jar.delete(name);
    else jar.set(name, pair);
  }
  return [...jar.values()].join('; ');
}

export function setCookieOf(res: request.Response): string[] {
  const v = res.headers['set-cookie'] as unknown;
  return v === undefined ? [] : Array.isArray(v) ? (v as string[]) : [String(v)];
}

/**
 * Signs in through the real routes: /login -> the emulator's authorize (auto-approve) -> /callback.
 * Returns the session cookie pairs.
 */
export async function signIn(
  app: Express,
  sso: Emulator,
  returnTo = '/profile',
): Promise<{ cookie: string; location: string }> {
  const login = await request(app)
    .get(`/login?returnTo=${encodeURIComponent(returnTo)}`)
    .expect(302);
  const txnCookie = cookiesFrom(setCookieOf(login));
  const authorize = await fetch(login.headers.location as string, { redirect: 'manual' });
  if (authorize.status !== 302) throw new Error(`authorize answered ${authorize.status}`);
  const back = new URL(authorize.headers.get('location')!);
  const cb = await request(app).get(`${back.pathname}${back.search}`).set('Cookie', txnCookie);
  if (cb.status !== 302) throw new Error(`callback answered ${cb.status}: ${cb.text}`);
  return { cookie: cookiesFrom(setCookieOf(cb)), location: cb.headers.location as string };
}
