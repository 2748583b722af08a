/**
 * Several app instances as separate processes sharing one Redis and one SSO emulator, over real
 * HTTP: the shared check_token cache, one refresh per rotation, revocation, Redis outages and a
 * refresh-lock owner that dies, and one instance whose Redis connection stalls.
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
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { eventually } from '../helpers/eventually';

jest.setTimeout(60_000);

const HTTP_TIMEOUT = 1500;

/** The environment of one instance (test/helpers/instance-main.ts). */
function instanceEnv(o: {
  sso: Emulator;
  prefix: string;
  major: string;
  redisUrl: string;
  storeTimeout?: number;
}): Record<string, string> {
  return {
    SSO_CLIENT_ID: CLIENT_ID,
    SSO_CLIENT_SECRET: CLIENT_SECRET,
    SESSION_SECRET: SECRET,
    APP_BASE_URL,
    REDIS_URL: o.redisUrl,
    REDIS_PREFIX: o.prefix,
    HTTP_TIMEOUT: String(HTTP_TIMEOUT),
    SSO_BASE_URL: o.sso.url,
    EXPRESS_MAJOR: o.major,
    ...(o.storeTimeout === undefined ? {} : { STORE_TIMEOUT: String(o.storeTimeout) }),
  };
}

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

function get(inst: Instance, path: string, cookie: string): Promise<Response> {
  return fetch(`${inst.url}${path}`, { headers: { cookie, accept: 'application/json' }, redirect: 'manual' });
}

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
  // Generous store timeout: 300 concurrent requests on 2 cores must not read a slow Redis as a
  // Redis outage (that would leave refreshes uncoordinated, which test 2 is not about).
  const env = () => instanceEnv({ sso, prefix, major, redisUrl: REDIS_URL, storeTimeout: 1000 });

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
    // The refreshed tokens live long: on a loaded machine, 2 s could pass before the last check.
    sso.setOptions({ accessTokenTtl: 3600 });
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
    expect((await get(instances[1]!, '/logout', cookie)).status).toBe(302);
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
    await get(instances[1]!, '/logout', newCookie);
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
    const env = instanceEnv({ sso, prefix, major, redisUrl: `redis://127.0.0.1:${port}` });
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

/** A Set-Cookie line that deletes a cookie (a session ended). */
const clears = (res: Response) => res.headers.getSetCookie().some((line) => /Max-Age=0/i.test(line));

describeRedis.each(['4', '5'])("one instance's Redis connection stalled (express %s)", (major) => {
  let sso: Emulator;
  let proxy: TcpProxy;
  /** x reaches Redis through the stalling proxy; y and z directly. */
  let [x, y, z] = [] as unknown as [Instance, Instance, Instance];
  const prefix = uniquePrefix();

  beforeAll(async () => {
    sso = await startTestEmulator({ accessTokenTtl: 3600 });
    const url = new URL(REDIS_URL);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 6379) });
    const env = (redisUrl: string, storeTimeout: number) => instanceEnv({ sso, prefix, major, redisUrl, storeTimeout });
    // x: every store call times out under the stall (400 ms held > 200 ms); y and z are generous,
    // so that a loaded machine does not make them fall back too (which this test is not about).
    [x, y, z] = await Promise.all([
      startInstance(env(proxy.url, 200)),
      startInstance(env(REDIS_URL, 1000)),
      startInstance(env(REDIS_URL, 1000)),
    ]);
  });
  afterAll(async () => {
    for (const i of [x, y, z]) i?.kill();
    proxy.stall(0);
    await proxy.close();
    await sso.close();
    await cleanPrefix(prefix);
  });
  beforeEach(() => {
    proxy.stall(0);
    sso.clearFaults();
    sso.setOptions({ accessTokenTtl: 3600 });
    sso.resetCounts();
  });

  it('7. 50 concurrent requests on a due session, x stalled: nobody is signed out; afterwards every instance adopts the rotated tokens', async () => {
    sso.setOptions({ accessTokenTtl: 2 });
    const cookie = await signIn(y, sso);
    await new Promise((r) => setTimeout(r, 2100));
    // The refreshed tokens live long: on a loaded machine, 2 s could pass before the follow-ups.
    sso.setOptions({ accessTokenTtl: 3600 });
    sso.resetCounts();
    proxy.stall(400);
    // x first: its store calls time out, so it refreshes uncoordinated and only queues its outcome.
    const first = get(x, '/api/me', cookie);
    expect(await eventually(() => sso.counts.refresh_token >= 1, 10_000)).toBe(true);
    // Then y and z (which take the lock and find no outcome) and x again, all at once.
    const rest = Array.from({ length: 49 }, (_, i) => get([y, z, x][i % 3]!, '/api/me', cookie));
    const answers = await Promise.all([first, ...rest]);
    // The reproduction happened: another instance presented the refresh token x had just used.
    expect(sso.counts.refresh_token).toBeGreaterThanOrEqual(2);

    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(answers.filter(clears)).toEqual([]);
    for (const r of answers.filter((a) => a.status === 503)) {
      expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(r.headers.getSetCookie()).toEqual([]);
    }
    const rotated = new Set(
      answers
        .filter((r) => r.status === 200)
        .map((r) => openSession(cookiesFrom(r.headers.getSetCookie())).accessToken),
    );
    expect(rotated.size).toBe(1);
    const [accessToken] = rotated;

    // The stall ends: x's queued outcome is written, and every instance adopts it.
    proxy.stall(0);
    expect(await eventually(async () => (await x.stats()).queued === 0, 10_000)).toBe(true);
    for (const inst of [x, y, z]) {
      const res = await get(inst, '/api/me', cookie);
      expect(res.status).toBe(200);
      expect(openSession(cookiesFrom(res.headers.getSetCookie())).accessToken).toBe(accessToken);
    }
  });

  it('8. a refresh token revoked at the SSO: 503 (session kept) while another instance may still publish an outcome, then the session ends', async () => {
    sso.setOptions({ accessTokenTtl: 2 });
    const cookie = await signIn(y, sso);
    await new Promise((r) => setTimeout(r, 2100));
    sso.revokeToken(openSession(cookie).refreshToken!);
    sso.resetCounts();

    const answers: Response[] = [];
    let i = 0;
    // Bounded: the window is a few seconds (HTTP_TIMEOUT + 1 s + store timeout + 2 s here).
    const ended = await eventually(async () => {
      const res = await get([y, z][i++ % 2]!, '/api/me', cookie);
      answers.push(res);
      return res.status !== 503;
    }, 20_000);
    expect(ended).toBe(true);
    const last = answers.pop()!;
    expect(answers.length).toBeGreaterThan(0);
    for (const r of answers) {
      expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(r.headers.getSetCookie()).toEqual([]);
    }
    expect(last.status).toBe(401);
    expect(clears(last)).toBe(true);
    // Definitive everywhere now, and the SSO was asked once: the window never retries the token.
    for (const inst of [x, y, z]) expect((await get(inst, '/api/me', cookie)).status).toBe(401);
    expect(sso.counts.refresh_token).toBe(1);
  });
});
