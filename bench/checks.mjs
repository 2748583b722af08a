/**
 * The counts that must hold under load, run against the built package:
 *   1. 1,000 concurrent requests carrying one new token -> exactly 1 check_token call;
 *   2. 200 concurrent requests carrying one expired session -> exactly 1 refresh call, all 200;
 *   3. 1,000,000 distinct tokens through the cache (max 10,000) -> heap after GC within 1.5x of
 *      the heap at 10,000 tokens.
 * `node --expose-gc bench/checks.mjs` (bench/run.mjs forks it so). Prints one line per check with
 * its measured numbers; exits non-zero when one fails. Forked, it also sends the results over IPC.
 */
import http from 'node:http';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { auth } from 'express-sso-guard';
import { startEmulator } from 'express-sso-guard/testing';
import { signInSsoGuard } from './scenarios.mjs';

const SECRET = 'bench-checks-session-secret-of-32-chars+';
const CLIENT = { clientId: 'bench-client', clientSecret: 'bench-client-secret' };

async function listen(handler) {
  const server = http.createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${server.address().port}` };
}

/** A signed-in app on a real port, with the emulator and `auth()` sharing `clock`. */
async function signedInApp(clock) {
  const sso = await startEmulator({ autoApprove: true, ...CLIENT, clock, accessTokenTtl: 600 });
  const app = express();
  const { server, base } = await listen(app);
  app.use(auth({ ssoBaseUrl: sso.url, appBaseUrl: base, ...CLIENT, secret: SECRET, clock }));
  app.get('/api/me', (req, res) => res.json({ user: req.sso.user.user_id }));
  const cookie = await signInSsoGuard(base);
  return {
    sso,
    base,
    cookie,
    async close() {
      server.closeAllConnections();
      server.close();
      await sso.close();
    },
  };
}

function burst(n, url, cookie) {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const res = await fetch(url, { headers: { cookie } });
      await res.arrayBuffer();
      return res.status;
    }),
  );
}

async function checkTokenCoalescing() {
  const t = await signedInApp(Date.now);
  try {
    t.sso.resetCounts();
    const statuses = await burst(1000, `${t.base}/api/me`, t.cookie);
    const ok = statuses.filter((s) => s === 200).length;
    const calls = t.sso.counts.check_token;
    return {
      name: '1,000 concurrent requests, one new token',
      pass: calls === 1 && ok === 1000,
      measured: `${calls} check_token call(s), ${ok}/1000 answered 200`,
      numbers: { checkTokenCalls: calls, ok, requests: 1000 },
    };
  } finally {
    await t.close();
  }
}

async function refreshCoalescing() {
  let offset = 0;
  const clock = () => Date.now() + offset;
  const t = await signedInApp(clock);
  try {
    offset += 601_000; // the 600 s access token is now expired
    t.sso.resetCounts();
    const statuses = await burst(200, `${t.base}/api/me`, t.cookie);
    const ok = statuses.filter((s) => s === 200).length;
    const calls = t.sso.counts.refresh_token;
    return {
      name: '200 concurrent requests, one expired session',
      pass: calls === 1 && ok === 200,
      measured: `${calls} refresh call(s), ${ok}/200 answered 200`,
      numbers: { refreshCalls: calls, ok, requests: 200 },
    };
  } finally {
    await t.close();
  }
}

/**
 * Drives 1,000,000 distinct Bearer tokens through the real middleware (`bearer: true`), each one a
 * check_token answered in-process by an injected HTTP client, so the cache fills and churns with
 * realistic entries without a million HTTP round trips.
 */
async function cacheHeap() {
  const gc = globalThis.gc;
  if (typeof gc !== 'function')
    return { name: 'heap after 1,000,000 tokens', pass: false, measured: 'needs node --expose-gc', numbers: {} };
  const exp = Math.floor(Date.now() / 1000) + 86_400;
  const sts = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.c2ln`;
  let calls = 0;
  const httpClient = {
    async request(config) {
      calls++;
      const token = config.headers.authorization.slice(7);
      const data = JSON.stringify({
        user: { user_id: `u-${token}`, user_name: `user ${token}`, email: `${token}@example.com` },
        access_key: `TMP${token}`,
        secret_key: `sk-${token}`,
        token: sts,
      });
      return { status: 200, statusText: 'OK', headers: {}, config, data };
    },
  };
  // A short httpTimeout: each call arms an AbortSignal.timeout; we wait them out before measuring.
  const guard = auth({
    ssoBaseUrl: 'http://sso.invalid',
    appBaseUrl: 'http://app.invalid',
    ...CLIENT,
    secret: SECRET,
    bearer: true,
    httpClient,
    httpTimeout: 100,
    cache: { max: 10_000 },
  });
  const res = { headersSent: false, getHeader: () => undefined, setHeader: () => {} };
  const one = (i) =>
    new Promise((resolve, reject) => {
      const req = { method: 'GET', url: '/api/me', headers: { authorization: `Bearer tok-${i}` } };
      guard(req, res, (err) => {
        if (err) return reject(err);
        if (!req.sso.isAuthenticated() || req.sso.user.user_id !== `u-tok-${i}`)
          return reject(new Error(`token ${i} not authenticated`));
        resolve();
      });
    });
  const drive = async (from, to) => {
    for (let i = from; i < to; i += 1000) {
      const batch = [];
      for (let j = i; j < Math.min(i + 1000, to); j++) batch.push(one(j));
      await Promise.all(batch);
      // Let the event loop turn between batches, as it does between real requests: without it
      // the whole million runs as one microtask chain and Node never gets to run the
      // FinalizationRegistry cleanups of the per-call AbortSignal.timeout timers.
      await tick();
    }
  };
  // GC, let finalizers run, GC again: the timers armed by the last calls (httpTimeout 100 ms) expire.
  const heapAfterGc = async () => {
    for (let i = 0; i < 5; i++) {
      await sleep(100);
      gc();
    }
    return process.memoryUsage().heapUsed;
  };
  const started = Date.now();
  await drive(0, 10_000);
  const at10k = await heapAfterGc();
  await drive(10_000, 1_000_000);
  const at1m = await heapAfterGc();
  const ratio = at1m / at10k;
  return {
    name: '1,000,000 distinct tokens, cache max 10,000',
    pass: ratio <= 1.5 && calls === 1_000_000,
    measured: `heap ${(at10k / 1048576).toFixed(1)} MB at 10,000 -> ${(at1m / 1048576).toFixed(1)} MB at 1,000,000 (${ratio.toFixed(2)}x, limit 1.5x), ${calls} check_token calls, ${((Date.now() - started) / 1000).toFixed(1)} s`,
    numbers: { heapAt10k: at10k, heapAt1m: at1m, ratio, checkTokenCalls: calls },
  };
}

export async function runChecks(log = console.log) {
  const results = [];
  for (const check of [checkTokenCoalescing, refreshCoalescing, cacheHeap]) {
    let r;
    try {
      r = await check();
    } catch (err) {
      r = { name: check.name, pass: false, measured: `threw: ${err?.message ?? err}`, numbers: {} };
    }
    log(`  ${r.pass ? 'PASS' : 'FAIL'}  ${r.name}: ${r.measured}`);
    results.push(r);
  }
  return results;
}

const results = await runChecks();
if (typeof process.send === 'function') process.send({ type: 'checks', results });
process.exitCode = results.every((r) => r.pass) ? 0 : 1;
