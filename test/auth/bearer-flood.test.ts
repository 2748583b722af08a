/**
 * A flood of unknown Bearer tokens neither evicts signed-in sessions
 * from the check_token cache nor opens unbounded concurrent check_token calls.
 */
import express from 'express';
import request from 'supertest';
import { randomBytes } from 'node:crypto';
import type { Emulator } from '../../lib/testing';
import { BEARER_CHECKS_IN_FLIGHT, BEARER_CHECKS_QUEUED } from '../../lib/sso/check-token-cache';
import { createTestApp, signIn, startTestEmulator } from '../helpers/app';

const randomBearer = () => `Bearer ${randomBytes(24).toString('base64url')}`;

describe('Bearer mode: unknown tokens', () => {
  let sso: Emulator;
  /** check_token answers sent, and the most calls the emulator had in flight at once. */
  let finished = 0;
  let peak = 0;

  beforeAll(async () => {
    sso = await startTestEmulator({
      // Logged when an answer is sent: just before it, arrivals minus answers is the number in flight.
      logger: (line) => {
        if (!line.startsWith('POST /sso/check_token/ -> ')) return;
        peak = Math.max(peak, sso.counts.check_token - finished);
        finished++;
      },
    });
  });
  afterAll(() => sso.close());
  beforeEach(() => {
    sso.clearFaults();
    sso.resetCounts();
    finished = 0;
    peak = 0;
  });

  it('a flood of random Bearer tokens leaves a signed-in session in the cache (no extra check_token for it)', async () => {
    const app = createTestApp(express, sso, { bearer: true, cache: { max: 20 } });
    const { cookie } = await signIn(app, sso);
    await request(app).get('/api/me').set('Cookie', cookie).expect(200);
    for (let batch = 0; batch < 5; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 40 }, () => request(app).get('/api/me').set('Authorization', randomBearer())),
      );
      expect(answers.map((r) => r.status).filter((s) => s !== 401)).toEqual([]);
    }
    expect(sso.counts.check_token).toBeGreaterThanOrEqual(200);
    sso.resetCounts();
    const me = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
    expect(me.body.authenticated).toBe(true);
    expect(sso.counts.check_token).toBe(0);
  });

  it(`at most ${BEARER_CHECKS_IN_FLIGHT} check_token calls in flight for unknown Bearer tokens; past the queue, 503 with Retry-After`, async () => {
    const app = createTestApp(express, sso, { bearer: true });
    const server = app.listen(0, '127.0.0.1');
    try {
      sso.setFault('check_token', { type: 'slow', delayMs: 500 }, { times: 1000 });
      const total = BEARER_CHECKS_IN_FLIGHT + BEARER_CHECKS_QUEUED + 150;
      const answers = await Promise.all(
        Array.from({ length: total }, () => request(server).get('/api/me').set('Authorization', randomBearer())),
      );
      const statuses = answers.map((r) => r.status);
      expect(statuses.filter((s) => s !== 401 && s !== 503)).toEqual([]);
      const refused = answers.filter((r) => r.status === 503);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) expect(r.headers['retry-after']).toBeDefined();
      expect(peak).toBeLessThanOrEqual(BEARER_CHECKS_IN_FLIGHT);
      expect(peak).toBe(BEARER_CHECKS_IN_FLIGHT);
      // Every token let through was checked once; the refused ones cost no check_token at all.
      expect(sso.counts.check_token).toBe(total - refused.length);
    } finally {
      server.close();
    }
  });
});
