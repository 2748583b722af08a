/**
 * Several app instances as separate processes sharing one Redis and one SSO emulator, over real
 * HTTP: the shared check_token cache, one refresh per rotation, revocation, Redis outages and a
 * refresh-lock owner that dies, and one instance whose Redis connection stalls.
 */
import type { ChildProcess } from 'node:child_process';
import type { Emulator } from '../../lib/testing';
import { startTestEmulator } from '../helpers/app';
import { REDIS_URL, cleanPrefix, dumpPrefix, freePort, startRedisServer, uniquePrefix } from '../helpers/redis';
import { describeRedis } from '../helpers/describe-redis';
import { startInstance, type Instance } from '../helpers/instances';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { eventually } from '../helpers/eventually';
import { cookiesFrom } from '../helpers/app';
import { openSession } from '../helpers/session';
import { get, instanceEnv, sharedInstanceTests, signIn, type StoreTarget } from '../helpers/multi-instance';

jest.setTimeout(60_000);

/** The machine's Redis through node-redis; the cluster and Sentinel suites run the same tests. */
const standalone: StoreTarget = {
  env: { REDIS_CLIENT: 'node-redis', REDIS_URL },
  dump: (prefix) => dumpPrefix(REDIS_URL, prefix),
  clean: (prefix) => cleanPrefix(prefix),
};

describeRedis.each(['4', '5'])('several instances sharing Redis (express %s)', (major) => {
  sharedInstanceTests(major, () => standalone);
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
    const target = { ...standalone, env: { REDIS_CLIENT: 'node-redis', REDIS_URL: `redis://127.0.0.1:${port}` } };
    const env = instanceEnv(target, sso, prefix, major);
    instances = await Promise.all([startInstance(env), startInstance(env)]);
  });
  afterAll(async () => {
    for (const i of instances) i.kill();
    redis?.kill('SIGKILL');
    await sso.close();
  });

  it('4. keeps serving from the in-process store with no 5xx, and shares again once Redis is back', async () => {
    const cookie = await signIn(instances[0]!);
    for (const inst of instances) expect((await get(inst, '/api/me', cookie)).status).toBe(200);
    redis!.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    // New sessions, refreshes and checks go on without Redis.
    const during = await signIn(instances[1]!);
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++)
      for (const inst of instances) statuses.push((await get(inst, '/api/me', i % 2 ? cookie : during)).status);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect((await instances[0]!.stats()).available).toBe(false);
    // Back: a new session's first request on each instance costs one check_token again.
    redis = await startRedisServer(port);
    await new Promise((r) => setTimeout(r, 1500));
    const after = await signIn(instances[0]!);
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
    const env = (redisUrl: string, storeTimeout: number) => ({
      ...instanceEnv({ ...standalone, env: { REDIS_CLIENT: 'node-redis', REDIS_URL: redisUrl } }, sso, prefix, major),
      STORE_TIMEOUT: String(storeTimeout),
    });
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

  it('9. 50 concurrent requests on a due session, x stalled: nobody is signed out; afterwards every instance adopts the rotated tokens', async () => {
    sso.setOptions({ accessTokenTtl: 2 });
    const cookie = await signIn(y);
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

  it('10. a refresh token revoked at the SSO: 503 (session kept) while another instance may still publish an outcome, then the session ends', async () => {
    sso.setOptions({ accessTokenTtl: 2 });
    const cookie = await signIn(y);
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
