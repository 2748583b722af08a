/**
 * Several app instances as separate processes sharing one Redis and one SSO emulator, over real
 * HTTP: the shared check_token cache, one refresh per rotation, revocation, Redis outages and a
 * refresh-lock owner that dies.
 */
import type { ChildProcess } from 'node:child_process';
import type { Emulator } from '../../lib/testing';
import { startTestEmulator } from '../helpers/app';
import { REDIS_URL, cleanPrefix, dumpPrefix, freePort, startRedisServer, uniquePrefix } from '../helpers/redis';
import { describeRedis } from '../helpers/describe-redis';
import { startInstance, type Instance } from '../helpers/instances';
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
