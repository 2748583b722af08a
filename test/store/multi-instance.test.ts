/**
 * Several app instances as separate processes sharing one Redis and one SSO emulator, over real
 * HTTP: the shared check_token cache, one refresh per rotation, revocation, Redis outages and a
 * refresh-lock owner that dies.
 */
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { Emulator } from '../../lib/testing';
import { startTestEmulator, APP_BASE_URL, cookiesFrom } from '../helpers/app';
import { CLIENT_ID, CLIENT_SECRET, SECRET } from '../helpers/options';
import { openSession } from '../helpers/session';
import { REDIS_URL, cleanPrefix, dumpPrefix, freePort, startRedisServer, uniquePrefix } from '../helpers/redis';
import { describeRedis } from '../helpers/describe-redis';
import { startInstance, type Instance } from '../helpers/instances';

jest.setTimeout(60_000);

const HTTP_TIMEOUT = 1500;

/** Signs in through one instance's real routes; returns the session cookie. */
async function signIn(inst: Instance, sso: Emulator): Promise<string> {
  const login = await fetch(`${inst.url}/login?returnTo=/`, { redirect: 'manual' });
  const txn = cookiesFrom(login.headers.getSetCookie());
  const authorize = await fetch(login.headers.get('location')!, { redirect: 'manual' });
  const back = new URL(authorize.headers.get('location')!);
  const cb = await fetch(`${inst.url}${back.pathname}${back.search}`, { redirect: 'manual', headers: { cookie: txn } });
  if (cb.status !== 302) throw new Error(`callback ${cb.status}`);
  void sso;
  return cookiesFrom(cb.headers.getSetCookie());
}

function get(inst: Instance, path: string, cookie: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${inst.url}${path}`, {
    headers: { cookie, accept: 'application/json', ...headers },
    redirect: 'manual',
  });
}

/** What the app's own sign-out link sends (a GET /logout that says nothing of its origin is refused). */
const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' };

/** A browser navigation (fetch() cannot send `Sec-Fetch-Mode: navigate`, so plain node:http). */
function navigate(
  inst: Instance,
  path: string,
  cookie: string,
): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${inst.url}${path}`, { headers: { cookie, accept: 'text/html', 'sec-fetch-mode': 'navigate' } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode!, location: res.headers.location });
      })
      .on('error', reject);
  });
}

describeRedis.each(['4', '5'])('several instances sharing Redis (express %s)', (major) => {
  let sso: Emulator;
  let instances: Instance[] = [];
  const prefix = uniquePrefix();
  const env = (redisUrl = REDIS_URL) => ({
    SSO_CLIENT_ID: CLIENT_ID,
    SSO_CLIENT_SECRET: CLIENT_SECRET,
    SESSION_SECRET: SECRET,
    APP_BASE_URL,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    HTTP_TIMEOUT: String(HTTP_TIMEOUT),
    SSO_BASE_URL: sso.url,
    EXPRESS_MAJOR: major,
    // Generous: 300 concurrent requests on 2 cores must not read a slow Redis as a Redis outage
    // (that would leave refreshes uncoordinated, which test 2 is not about).
    STORE_TIMEOUT: '1000',
  });

  beforeAll(async () => {
    sso = await startTestEmulator({ accessTokenTtl: 3600 });
    instances = await Promise.all([startInstance(env()), startInstance(env()), startInstance(env())]);
  });
  afterAll(async () => {
    for (const i of instances) i.kill();
    await sso.close();
    await cleanPrefix(prefix);
  });
  beforeEach(() => {
    sso.clearFaults();
    sso.setOptions({ accessTokenTtl: 3600 });
    sso.resetCounts();
  });

  it('1. a session made on instance 1 works on 2 and 3; the first request on each costs ONE check_token in total', async () => {
    const cookie = await signIn(instances[0]!, sso);
    sso.resetCounts();
    for (const inst of instances) expect((await get(inst, '/api/me', cookie)).status).toBe(200);
    expect(sso.counts.check_token).toBe(1);
  });

  it('2. 300 concurrent requests with one expired session over three instances: ONE refresh, all 200; the old cookie still works later', async () => {
    sso.setOptions({ accessTokenTtl: 2 });
    const cookie = await signIn(instances[0]!, sso);
    await new Promise((r) => setTimeout(r, 2100));
    sso.resetCounts();
    const statuses = await Promise.all(
      Array.from({ length: 300 }, (_, i) => get(instances[i % 3]!, '/api/me', cookie).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(sso.counts.refresh_token).toBe(1);
    await new Promise((r) => setTimeout(r, 1000));
    for (const inst of instances) expect((await get(inst, '/api/me', cookie)).status).toBe(200);
    expect(sso.counts.refresh_token).toBe(1);
  });

  it('3. logout on instance 2: the old cookie replayed on instances 1 and 3 gets 401 / login redirect', async () => {
    const cookie = await signIn(instances[0]!, sso);
    for (const inst of instances) expect((await get(inst, '/api/me', cookie)).status).toBe(200);
    expect((await get(instances[1]!, '/logout', cookie, SAME_ORIGIN)).status).toBe(302);
    await new Promise((r) => setTimeout(r, 200));
    expect((await get(instances[0]!, '/api/me', cookie)).status).toBe(401);
    const page = await navigate(instances[2]!, '/page', cookie);
    expect(page.status).toBe(302);
    expect(page.location).toMatch(/^\/login\?returnTo=/);
  });

  it('6. no access token, refresh token, secret key or STS token in clear under the prefix', async () => {
    sso.setOptions({ accessTokenTtl: 2 });
    const cookie = await signIn(instances[0]!, sso);
    const me = (await (await get(instances[1]!, '/api/me', cookie)).json()) as {
      credentials: { secretKey: string; token: string };
    };
    await new Promise((r) => setTimeout(r, 2100));
    const refreshed = await get(instances[2]!, '/api/me', cookie);
    const newCookie = cookiesFrom(refreshed.headers.getSetCookie());
    await get(instances[1]!, '/logout', newCookie, SAME_ORIGIN);
    const dump = await dumpPrefix(REDIS_URL, prefix);
    expect(dump.size).toBeGreaterThan(2);
    const secrets = [
      openSession(cookie).accessToken,
      openSession(cookie).refreshToken!,
      openSession(newCookie).accessToken,
      openSession(newCookie).refreshToken!,
      me.credentials.secretKey,
      me.credentials.token,
      CLIENT_SECRET,
      SECRET,
    ];
    for (const [key, value] of dump) for (const s of secrets) expect(`${key}=${value}`).not.toContain(s);
  });

  it('5. the owner of a refresh lock killed mid-refresh: another instance completes the refresh after the lock expires', async () => {
    sso.setOptions({ accessTokenTtl: 2 });
    const owner = await startInstance(env());
    try {
      const cookie = await signIn(owner, sso);
      await new Promise((r) => setTimeout(r, 2100));
      sso.resetCounts();
      sso.setFault('refresh_token', { type: 'hang' }, { times: 1 });
      void get(owner, '/api/me', cookie).catch(() => undefined);
      while (sso.counts.refresh_token === 0) await new Promise((r) => setTimeout(r, 10));
      const started = Date.now();
      const waiting = get(instances[0]!, '/api/me', cookie);
      await new Promise((r) => setTimeout(r, 100));
      owner.kill();
      const res = await waiting;
      const waited = Date.now() - started;
      expect(res.status).toBe(200);
      expect(sso.counts.refresh_token).toBe(2);
      // Bounded by the lock time (SSO timeout + 1 s) plus one SSO timeout, with a small margin.
      expect(waited).toBeLessThan(HTTP_TIMEOUT + 1000 + HTTP_TIMEOUT + 500);
    } finally {
      owner.kill();
    }
  });
});

describeRedis.each(['4', '5'])('Redis stopped mid-run (express %s)', (major) => {
  let sso: Emulator;
  let redis: ChildProcess | undefined;
  let port = 0;
  let instances: Instance[] = [];
  const prefix = uniquePrefix();

  beforeAll(async () => {
    sso = await startTestEmulator({ accessTokenTtl: 3600 });
    port = await freePort();
    redis = await startRedisServer(port);
    const env = {
      SSO_CLIENT_ID: CLIENT_ID,
      SSO_CLIENT_SECRET: CLIENT_SECRET,
      SESSION_SECRET: SECRET,
      APP_BASE_URL,
      REDIS_URL: `redis://127.0.0.1:${port}`,
      REDIS_PREFIX: prefix,
      HTTP_TIMEOUT: String(HTTP_TIMEOUT),
      SSO_BASE_URL: sso.url,
      EXPRESS_MAJOR: major,
    };
    instances = await Promise.all([startInstance(env), startInstance(env)]);
  });
  afterAll(async () => {
    for (const i of instances) i.kill();
    redis?.kill('SIGKILL');
    await sso.close();
  });

  it('4. keeps serving from the in-process store with no 5xx, and shares again once Redis is back', async () => {
    const cookie = await signIn(instances[0]!, sso);
    for (const inst of instances) expect((await get(inst, '/api/me', cookie)).status).toBe(200);
    redis!.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    // New sessions, refreshes and checks go on without Redis.
    const during = await signIn(instances[1]!, sso);
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++)
      for (const inst of instances) statuses.push((await get(inst, '/api/me', i % 2 ? cookie : during)).status);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect((await instances[0]!.stats()).available).toBe(false);
    // Back: a new session's first request on each instance costs one check_token again.
    redis = await startRedisServer(port);
    await new Promise((r) => setTimeout(r, 1500));
    const after = await signIn(instances[0]!, sso);
    sso.resetCounts();
    for (const inst of instances) expect((await get(inst, '/api/me', after)).status).toBe(200);
    expect(sso.counts.check_token).toBe(1);
    expect((await instances[1]!.stats()).available).toBe(true);
  });
});
