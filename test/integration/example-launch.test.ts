import request from 'supertest';
import { EXAMPLE_VERSIONS, TEST_SECRET, cookieHeader, type StartedExample } from '../e2e/example-app';

// The example app runs with `launch: true`: a console launch and a SaaS redirect sign in, and its
// access log (ACCESS_LOG=1) records the launch URLs with the tokens redacted.

const NAVIGATE = { 'Sec-Fetch-Mode': 'navigate', Accept: 'text/html' };

describe.each(EXAMPLE_VERSIONS)('example app launch (%s)', (_label, start) => {
  it('signs in from the console and the SaaS redirect, asks before switching, and logs no token', async () => {
    const written: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    let app: StartedExample | undefined;
    const tokens: string[] = [];
    try {
      app = await start({ env: { SESSION_SECRET: TEST_SECRET, ACCESS_LOG: '1' }, port: 0 });
      const alice = app.emulator!.issueTokens('usr-alice');
      const bob = app.emulator!.issueTokens('usr-bob');
      tokens.push(alice.access_token, alice.refresh_token!, bob.access_token, bob.refresh_token!);

      const launched = await request(app.appUrl)
        .get(`/launch?token=${alice.access_token}&returnTo=%2Fprofile`)
        .set(NAVIGATE)
        .expect(303)
        .expect('Location', '/profile');
      const cookie = cookieHeader(launched.headers['set-cookie']);
      const profile = await request(app.appUrl).get('/profile').set('Cookie', cookie).expect(200);
      expect(profile.text).toContain('<dd id="user-id">usr-alice</dd>');

      const other = await request(app.appUrl)
        .get(`/profile?access_token=${bob.access_token}&refresh_token=${bob.refresh_token!}`)
        .set('Cookie', cookie)
        .set(NAVIGATE)
        .expect(303)
        .expect('Location', '/launch?confirm');
      const confirm = await request(app.appUrl)
        .get('/launch?confirm')
        .set('Cookie', cookieHeader(other.headers['set-cookie'], cookie))
        .set(NAVIGATE)
        .expect(200);
      expect(confirm.text).toContain('Switch account?');
      const fresh = await request(app.appUrl)
        .get(`/?access_token=${bob.access_token}&refresh_token=${bob.refresh_token!}`)
        .set(NAVIGATE)
        .expect(303)
        .expect('Location', '/');
      const bobCookie = cookieHeader(fresh.headers['set-cookie']);
      const me = await request(app.appUrl).get('/api/me').set('Cookie', bobCookie).expect(200);
      expect((me.body as { user: { user_id: string } }).user.user_id).toBe('usr-bob');
    } finally {
      write.mockRestore();
      await app?.close();
    }
    const lines = written
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; url?: string; status?: number });
    const urls = lines.filter((l) => l.msg === 'request').map((l) => [l.url, l.status]);
    expect(urls).toEqual([
      ['/launch?token=[redacted]&returnTo=%2Fprofile', 303],
      ['/profile', 200],
      ['/profile?access_token=[redacted]&refresh_token=[redacted]', 303],
      ['/launch?confirm', 200],
      ['/?access_token=[redacted]&refresh_token=[redacted]', 303],
      ['/api/me', 200],
    ]);
    const all = written.join('');
    for (const t of tokens) expect(all).not.toContain(t);
  });
});
