import request from 'supertest';
import { TEST_SECRET, cookieHeader, start, type StartedExample } from '../e2e/example-app';

/** Signs in through the example app's routes and the emulator's sign-in form; returns the Cookie header. */
async function signIn(appUrl: string, ssoUrl: string): Promise<string> {
  const login = await request(appUrl).get('/login?returnTo=/profile').expect(302);
  const authorize = new URL(String(login.headers.location));
  const form = new URLSearchParams({
    ...Object.fromEntries(authorize.searchParams),
    user: 'usr-alice',
    action: 'approve',
  });
  const approved = await fetch(`${ssoUrl}/sso/oauth2/approve`, { method: 'POST', body: form, redirect: 'manual' });
  const back = new URL(approved.headers.get('location')!);
  const callback = await request(appUrl)
    .get(`${back.pathname}${back.search}`)
    .set('Cookie', cookieHeader(login.headers['set-cookie']))
    .expect(302);
  return cookieHeader(callback.headers['set-cookie']);
}

describe('example app observability', () => {
  it('METRICS_PORT: Prometheus metrics on 127.0.0.1 with the SSO duration and cache series after a sign-in', async () => {
    const app = (await start({
      env: { SESSION_SECRET: TEST_SECRET, METRICS_PORT: '0' },
      port: 0,
    })) as StartedExample & { metricsUrl: string };
    try {
      expect(app.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const cookie = await signIn(app.appUrl, app.ssoUrl);
      await request(app.appUrl).get('/api/me').set('Cookie', cookie).expect(200);
      const profile = await request(app.appUrl).get('/profile').set('Cookie', cookie).expect(200);
      expect(profile.text).toContain('id="instances"');
      await request(app.appUrl).get('/logout').set('Sec-Fetch-Site', 'same-origin').set('Cookie', cookie).expect(302);
      const scrape = await fetch(app.metricsUrl);
      expect(scrape.status).toBe(200);
      const text = await scrape.text();
      expect(text).toMatch(/^sso_guard_sso_duration_count\{sso_endpoint="token",sso_outcome="ok"[^}]*\} 1$/m);
      expect(text).toMatch(/^sso_guard_sso_duration_count\{sso_endpoint="check_token",sso_outcome="ok"[^}]*\} 1$/m);
      expect(text).toMatch(
        /^sso_guard_sso_duration_bucket\{sso_endpoint="check_token",sso_outcome="ok",[^}]*le="0.5"\} 1$/m,
      );
      expect(text).toMatch(/^sso_guard_check_token_cache_total\{result="miss"[^}]*\} 1$/m);
      expect(text).toMatch(/^sso_guard_check_token_cache_total\{result="hit"[^}]*\} [1-9]\d*$/m);
      expect(text).toMatch(/^sso_guard_session_started_total(\{[^}]*\})? 1$/m);
      expect(text).toMatch(/^sso_guard_session_ended_total\{reason="logout"[^}]*\} 1$/m);
      expect(text).toMatch(
        /^sso_guard_cloud_duration_count\{cloud_action="DescribeInstances",cloud_outcome="ok"[^}]*\} 1$/m,
      );
    } finally {
      await app.close();
    }
  });

  it('LOG_FORMAT=json: pino JSON lines for sign-in and sign-out', async () => {
    const written: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    let app: StartedExample | undefined;
    try {
      app = await start({ env: { SESSION_SECRET: TEST_SECRET, LOG_FORMAT: 'json' }, port: 0 });
      const cookie = await signIn(app.appUrl, app.ssoUrl);
      await request(app.appUrl).get('/api/me').set('Cookie', cookie).expect(200);
      await request(app.appUrl).get('/logout').set('Sec-Fetch-Site', 'same-origin').set('Cookie', cookie).expect(302);
    } finally {
      write.mockRestore();
      await app?.close();
    }
    const lines = written
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { level: number; msg: string; name: string });
    expect(lines.map((l) => [l.level, l.name, l.msg])).toEqual([
      // The example's `authorize` (instance-bound) makes the callback know the user.
      [30, 'express-sso-guard-example', 'express-sso-guard: sign-in: user usr-alice'],
      [30, 'express-sso-guard-example', 'express-sso-guard: sign-out: user usr-alice'],
    ]);
  });

  it('refuses a LOG_FORMAT it does not know', async () => {
    await expect(start({ env: { SESSION_SECRET: TEST_SECRET, LOG_FORMAT: 'xml' }, port: 0 })).rejects.toThrow(
      'LOG_FORMAT must be "json" (or unset); received "xml"',
    );
  });
});
