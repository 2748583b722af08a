/**
 * The multi-instance behaviours, as one suite any Redis client and topology runs: several app
 * instances as separate processes sharing one store and one SSO emulator, over real HTTP.
 */
import http from 'node:http';
import type { Emulator } from '../../lib/testing';
import { startTestEmulator, APP_BASE_URL, cookiesFrom } from './app';
import { CLIENT_ID, CLIENT_SECRET, SECRET } from './options';
import { openSession } from './session';
import { uniquePrefix } from './redis';
import type { ClientEnv } from './redis-clients';
import { startInstance, type Instance } from './instances';

export const HTTP_TIMEOUT = 1500;

/** What the app's own sign-out link sends (a GET /logout that says nothing of its origin is refused). */
export const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' };

/** Where the instances keep their store: the client settings, and a way to read and clean a prefix. */
export interface StoreTarget {
  readonly env: ClientEnv;
  dump(prefix: string): Promise<Map<string, string>>;
  clean(prefix: string): Promise<void>;
}

/** Signs in through one instance's real routes; returns the session cookie. */
export async function signIn(inst: Instance): Promise<string> {
  const login = await fetch(`${inst.url}/login?returnTo=/`, { redirect: 'manual' });
  const txn = cookiesFrom(login.headers.getSetCookie());
  const authorize = await fetch(login.headers.get('location')!, { redirect: 'manual' });
  const back = new URL(authorize.headers.get('location')!);
  const cb = await fetch(`${inst.url}${back.pathname}${back.search}`, { redirect: 'manual', headers: { cookie: txn } });
  if (cb.status !== 302) throw new Error(`callback ${cb.status}`);
  return cookiesFrom(cb.headers.getSetCookie());
}

export function get(
  inst: Instance,
  path: string,
  cookie: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${inst.url}${path}`, {
    headers: { cookie, accept: 'application/json', ...headers },
    redirect: 'manual',
  });
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

/** The environment of one instance process on `sso`, storing under `prefix` in `target`. */
export function instanceEnv(target: StoreTarget, sso: Emulator, prefix: string, major: string): Record<string, string> {
  return {
    ...(target.env as Record<string, string>),
    SSO_CLIENT_ID: CLIENT_ID,
    SSO_CLIENT_SECRET: CLIENT_SECRET,
    SESSION_SECRET: SECRET,
    APP_BASE_URL,
    REDIS_PREFIX: prefix,
    HTTP_TIMEOUT: String(HTTP_TIMEOUT),
    SSO_BASE_URL: sso.url,
    EXPRESS_MAJOR: major,
  };
}

/**
 * The tests of several instances sharing one store: the check_token cache, one refresh per
 * rotation, logout everywhere, server-side sessions and, unless `topologyFree` is false, those
 * that do not depend on the client or topology (a dead lock owner, nothing in clear).
 * `target` is read in beforeAll, so an enclosing beforeAll may start the topology.
 */
export function sharedInstanceTests(
  major: string,
  target: () => StoreTarget,
  { topologyFree = true, failover }: { topologyFree?: boolean; failover?: () => Promise<void> } = {},
): void {
  let sso: Emulator;
  let store: StoreTarget;
  let instances: Instance[] = [];
  const prefix = uniquePrefix();
  const env = () => ({
    ...instanceEnv(store, sso, prefix, major),
    // Generous: 300 concurrent requests on 2 cores must not read a slow Redis as a Redis outage
    // (that would leave refreshes uncoordinated, which test 2 is not about).
    STORE_TIMEOUT: '1000',
  });

  beforeAll(async () => {
    store = target();
    sso = await startTestEmulator({ accessTokenTtl: 3600 });
    instances = await Promise.all([startInstance(env()), startInstance(env()), startInstance(env())]);
  });
  afterAll(async () => {
    for (const i of instances) i.kill();
    await sso?.close();
    await store?.clean(prefix);
  });
  beforeEach(() => {
    sso.clearFaults();
    sso.setOptions({ accessTokenTtl: 3600 });
    sso.resetCounts();
  });

  it('1. a session made on instance 1 works on 2 and 3; the first request on each costs ONE check_token in total; no store call failed', async () => {
    const cookie = await signIn(instances[0]!);
    sso.resetCounts();
    for (const inst of instances) expect((await get(inst, '/api/me', cookie)).status).toBe(200);
    expect(sso.counts.check_token).toBe(1);
    // The store really served it: no instance fell back to in-process behaviour.
    for (const inst of instances) expect(await inst.stats()).toMatchObject({ available: true, failures: 0 });
  });

  it('2. 300 concurrent requests with one expired session over three instances: ONE refresh, all 200; the old cookie still works later', async () => {
    sso.setOptions({ accessTokenTtl: 2 });
    const cookie = await signIn(instances[0]!);
    // The refreshed token lives long: on a loaded machine, the burst and the pause below may
    // outlast 2 s, and a token expired at the SSO by the last check is not what this test is about.
    sso.setOptions({ accessTokenTtl: 3600 });
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

  it('3. logout on instance 2: the old cookie replayed on instances 1 and 3 (which had it cached) gets 401 / login redirect', async () => {
    const cookie = await signIn(instances[0]!);
    for (const inst of instances) expect((await get(inst, '/api/me', cookie)).status).toBe(200);
    expect((await get(instances[1]!, '/logout', cookie, SAME_ORIGIN)).status).toBe(302);
    await new Promise((r) => setTimeout(r, 200));
    // Instances 1 and 3 answer from their first level: only the pub/sub message tells them.
    expect((await get(instances[0]!, '/api/me', cookie)).status).toBe(401);
    const page = await navigate(instances[2]!, '/page', cookie);
    expect(page.status).toBe(302);
    expect(page.location).toMatch(/^\/login\?returnTo=/);
  });

  it("3b. revokeUser on instance 2: the user's session is refused on instances 1 and 3 (which had it cached); a new sign-in works everywhere", async () => {
    const cookie = await signIn(instances[0]!);
    for (const inst of instances) expect((await get(inst, '/api/me', cookie)).status).toBe(200);
    await instances[1]!.revokeUser('usr-alice');
    await new Promise((r) => setTimeout(r, 200));
    for (const inst of instances) expect((await get(inst, '/api/me', cookie)).status).toBe(401);
    const fresh = await signIn(instances[2]!);
    for (const inst of instances) expect((await get(inst, '/api/me', fresh)).status).toBe(200);
  });

  // Lock expiry and sealing do not depend on the client or topology: the standalone suite runs them.
  const topologyFreeIt = topologyFree ? it : () => undefined;

  topologyFreeIt(
    '5. the owner of a refresh lock killed mid-refresh: another instance completes the refresh after the lock expires',
    async () => {
      sso.setOptions({ accessTokenTtl: 2 });
      const owner = await startInstance(env());
      try {
        const cookie = await signIn(owner);
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
    },
  );

  topologyFreeIt('6. no access token, refresh token, secret key or STS token in clear under the prefix', async () => {
    sso.setOptions({ accessTokenTtl: 2 });
    const cookie = await signIn(instances[0]!);
    const me = (await (await get(instances[1]!, '/api/me', cookie)).json()) as {
      credentials: { secretKey: string; token: string };
    };
    await new Promise((r) => setTimeout(r, 2100));
    const refreshed = await get(instances[2]!, '/api/me', cookie);
    const newCookie = cookiesFrom(refreshed.headers.getSetCookie());
    await get(instances[1]!, '/logout', newCookie, SAME_ORIGIN);
    const dump = await store.dump(prefix);
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

  it('7. server-side sessions: signed in on one instance, served by another from the store (ONE check_token); logout on the second refused on the first', async () => {
    const serverSide = await Promise.all([
      startInstance({ ...env(), SESSION_SERVER_SIDE: '1' }),
      startInstance({ ...env(), SESSION_SERVER_SIDE: '1' }),
    ]);
    try {
      const [a, b] = serverSide as [Instance, Instance];
      const cookie = await signIn(a);
      sso.resetCounts();
      expect((await get(a, '/api/me', cookie)).status).toBe(200);
      // B never saw this session: its tokens come from the store.
      const me = await get(b, '/api/me', cookie);
      expect(me.status).toBe(200);
      expect(((await me.json()) as { user: { user_name: string } }).user.user_name).toBeTruthy();
      expect(sso.counts.check_token).toBe(1);
      expect((await get(b, '/logout', cookie, SAME_ORIGIN)).status).toBe(302);
      await new Promise((r) => setTimeout(r, 200));
      expect((await get(a, '/api/me', cookie)).status).toBe(401);
      expect((await get(b, '/api/me', cookie)).status).toBe(401);
    } finally {
      for (const i of serverSide) i.kill();
    }
  });

  // Last: it changes the topology under the instances.
  if (failover !== undefined)
    it('8. a failover under running instances: a session made before is logged out everywhere, a new one is shared again', async () => {
      const before = await signIn(instances[0]!);
      for (const inst of instances) expect((await get(inst, '/api/me', before)).status).toBe(200);
      await failover();
      // The store may be skipped for a moment (calls failed during the switch): sign-ins go on,
      // and within seconds a new session is shared again through the new master.
      let shared = false;
      for (let i = 0; i < 30 && !shared; i++) {
        const cookie = await signIn(instances[0]!);
        sso.resetCounts();
        const statuses = [];
        for (const inst of instances) statuses.push((await get(inst, '/api/me', cookie)).status);
        shared = statuses.every((s) => s === 200) && sso.counts.check_token === 1;
        if (!shared) await new Promise((r) => setTimeout(r, 500));
      }
      expect(shared).toBe(true);
      expect((await get(instances[1]!, '/logout', before, SAME_ORIGIN)).status).toBe(302);
      await new Promise((r) => setTimeout(r, 200));
      expect((await get(instances[0]!, '/api/me', before)).status).toBe(401);
      expect((await get(instances[2]!, '/api/me', before)).status).toBe(401);
    }, 180_000);
}
