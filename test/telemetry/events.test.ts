import type { Express } from 'express';
import request from 'supertest';
import type { SsoGuardEvents } from '../../lib/telemetry/events';
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
import { fakeClock, type FakeClock } from '../helpers/clock';
import { openSession } from '../helpers/session';

const NAMES = ['login', 'logout', 'refresh', 'sessionEnd', 'ssoError'] as const;

describe.each(EXPRESS_VERSIONS)('events (%s)', (_name, express) => {
  let sso: Emulator;
  let clock: FakeClock;
  let errors: string[];
  beforeEach(async () => {
    clock = fakeClock(Date.now());
    sso = await startTestEmulator({ clock });
    errors = [];
  });
  afterEach(() => sso.close());

  const logger = { debug() {}, info() {}, warn() {}, error: (m: string) => void errors.push(m) };
  const make = (events: SsoGuardEvents): Express =>
    createTestApp(express as ExpressFactory, sso, { clock, httpTimeout: 400, events, logger });

  /**
   * Sign-in, a refresh, an SSO failure, logout: the statuses every step answered with, the secrets
   * involved (tokens and session id from the cookies).
   */
  async function journey(app: Express): Promise<{ statuses: number[]; secrets: string[] }> {
    const statuses: number[] = [];
    const { cookie } = await signIn(app, sso, '/api/me');
    const first = openSession(cookie);
    statuses.push((await request(app).get('/api/me').set('Cookie', cookie)).status);
    clock.advance(3590 * 1000);
    const refreshed = await request(app).get('/api/me').set('Cookie', cookie);
    statuses.push(refreshed.status);
    const next = cookiesFrom(setCookieOf(refreshed), cookie);
    const second = openSession(next);
    sso.setFault('check_token', { type: 'status', status: 503 }, { times: 1 });
    clock.advance(301 * 1000);
    statuses.push((await request(app).get('/api/me').set('Cookie', next)).status);
    statuses.push((await request(app).get('/api/me').set('Cookie', next)).status); // the SSO is back
    statuses.push((await request(app).get('/logout').set('Sec-Fetch-Site', 'same-origin').set('Cookie', next)).status);
    statuses.push((await request(app).get('/api/me').set('Cookie', next)).status);
    return {
      statuses,
      secrets: [
        first.accessToken,
        first.refreshToken!,
        first.id,
        second.accessToken,
        second.refreshToken!,
        cookie,
        next,
      ].filter(Boolean),
    };
  }

  it('each event with its documented payload, and none holds a token or session id', async () => {
    const got: Array<[string, Record<string, unknown>]> = [];
    const events = Object.fromEntries(
      NAMES.map((n) => [n, (e: Record<string, unknown>) => void got.push([n, e])]),
    ) as SsoGuardEvents;
    const { statuses, secrets } = await journey(make(events));
    expect(statuses).toEqual([200, 200, 503, 200, 302, 401]);
    expect(got.map(([n, e]) => [n, Object.keys(e).sort()])).toEqual([
      ['login', ['entry', 'userId']],
      ['refresh', ['durationMs', 'outcome']],
      ['ssoError', ['code', 'durationMs', 'endpoint', 'message', 'outcome']],
      ['logout', ['userId']],
      ['sessionEnd', ['reason', 'userId']],
      ['sessionEnd', ['reason', 'userId']],
    ]);
    expect(got[0]![1]).toEqual({ userId: 'usr-alice', entry: 'callback' });
    expect(got[1]![1]).toMatchObject({ outcome: 'refreshed' });
    expect(got[2]![1]).toMatchObject({
      endpoint: 'check_token',
      outcome: 'unavailable',
      code: 'upstream_unavailable',
      message: expect.stringMatching(/^SSO check_token is unavailable: .*\(HTTP 503\)$/),
    });
    expect(got[3]![1]).toEqual({ userId: 'usr-alice' });
    expect(got[4]![1]).toEqual({ reason: 'logout', userId: 'usr-alice' });
    expect(got[5]![1]).toEqual({ reason: 'revoked', userId: undefined });
    const text = JSON.stringify(got);
    for (const secret of secrets) expect(text.includes(secret)).toBe(false);
    expect(errors).toEqual([]);
  });

  it.each([
    [
      'throws',
      () => {
        throw new Error('listener bug');
      },
    ],
    ['rejects', () => Promise.reject(new Error('listener bug'))],
  ])('a listener that %s is logged and never affects the request', async (_how, listener) => {
    const reference = await journey(make({}));
    sso.resetCounts();
    clock.advance(86400 * 1000);
    const events = Object.fromEntries(NAMES.map((n) => [n, listener])) as SsoGuardEvents;
    const { statuses } = await journey(make(events));
    expect(statuses).toEqual(reference.statuses);
    await new Promise((r) => setImmediate(r));
    expect(errors.sort()).toEqual(
      ['login', 'logout', 'refresh', 'sessionEnd', 'sessionEnd', 'ssoError']
        .map((n) => `express-sso-guard: "${n}" listener failed: listener bug`)
        .sort(),
    );
  });

  it.each([
    [
      'throws a value that cannot be printed',
      () => {
        throw Object.create(null);
      },
    ],
    [
      'throws a value whose toString throws',
      () => {
        throw {
          toString: () => {
            throw new Error('no');
          },
        };
      },
    ],
    ['rejects with a value that cannot be printed', () => Promise.reject(Object.create(null))],
    [
      'throws undefined',
      () => {
        throw undefined;
      },
    ],
  ])('a listener that %s: same answers, the session revoked, no unhandled rejection', async (_how, listener) => {
    const reference = await journey(make({}));
    sso.resetCounts();
    clock.advance(86400 * 1000);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const events = Object.fromEntries(NAMES.map((n) => [n, listener])) as SsoGuardEvents;
      const { statuses } = await journey(make(events));
      expect(statuses).toEqual(reference.statuses);
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
      expect(errors.length).toBe(6);
      for (const line of errors) expect(line).toMatch(/listener failed: /);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
