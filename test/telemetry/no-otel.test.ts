/**
 * Without `@opentelemetry/api` installed (an optional peer dependency) the package loads, signs
 * in, serves cached requests and emits its events and log lines; nothing is recorded.
 */
import request from 'supertest';
import type { Express } from 'express';

jest.doMock('@opentelemetry/api', () => {
  throw Object.assign(new Error("Cannot find module '@opentelemetry/api'"), { code: 'MODULE_NOT_FOUND' });
});

const { loadApi } = require('../../lib/telemetry/api') as typeof import('../../lib/telemetry/api');
const { createTestApp, EXPRESS_VERSIONS, signIn, startTestEmulator } =
  require('../helpers/app') as typeof import('../helpers/app');

describe('without @opentelemetry/api', () => {
  it('the API is absent (the mock is in effect)', () => {
    expect(() => require('@opentelemetry/api')).toThrow('Cannot find module');
    expect(loadApi()).toBeUndefined();
  });

  describe.each(EXPRESS_VERSIONS)('%s', (_name, express) => {
    it('signs in, answers cached requests and logs out, still emitting events and log lines', async () => {
      const sso = await startTestEmulator();
      try {
        const lines: string[] = [];
        const events: string[] = [];
        const logger = {
          debug: () => {},
          info: (m: string) => lines.push(m),
          warn: (m: string) => lines.push(m),
          error: (m: string) => lines.push(m),
        };
        const app: Express = createTestApp(express, sso, {
          logger,
          events: {
            login: (e) => void events.push(`login ${e.userId}`),
            logout: (e) => void events.push(`logout ${e.userId}`),
          },
        });
        const { cookie } = await signIn(app, sso);
        for (let i = 0; i < 3; i++) {
          const res = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
          expect(res.body.user.user_id).toBe('usr-alice');
        }
        await request(app).get('/logout').set('Sec-Fetch-Site', 'same-origin').set('Cookie', cookie).expect(302);
        expect(events).toEqual(['login usr-alice', 'logout usr-alice']);
        expect(lines).toEqual([
          'express-sso-guard: sign-in: user usr-alice',
          'express-sso-guard: sign-out: user usr-alice',
        ]);
        expect(sso.counts.check_token).toBe(1);
      } finally {
        await sso.close();
      }
    });
  });
});
