/**
 * Issue 19, emulator side: the console page launches the app as a chosen user both ways AppCenter
 * does (`authUrl?token=` and the SaaS redirect `appUrl?access_token=…&refresh_token=…`), with real
 * tokens check_token accepts; the page itself holds no token.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { startEmulator, type Emulator } from '../../lib/testing';

describe('emulator console page', () => {
  let sso: Emulator;
  let app: http.Server;
  let appUrl: string;

  /** What the emulator's check_token says of an access token. */
  async function checkToken(token: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${sso.url}/sso/check_token/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  beforeAll(async () => {
    // The test app: both landing routes verify the token with the SSO, as the developer guide says.
    const server = express();
    server.get('/launch', async (req, res) => {
      const checked = await checkToken(String(req.query.token));
      res.json({
        via: 'authUrl',
        tenant: req.query.tenant,
        status: checked.status,
        user: (checked.body.user as { user_id?: string } | undefined)?.user_id,
      });
    });
    server.get('/saas', async (req, res) => {
      const checked = await checkToken(String(req.query.access_token));
      res.json({
        via: 'appUrl',
        status: checked.status,
        user: (checked.body.user as { user_id?: string } | undefined)?.user_id,
        refreshToken: typeof req.query.refresh_token === 'string' && req.query.refresh_token !== '',
      });
    });
    app = http.createServer(server);
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    sso = await startEmulator({ console: { authUrl: `${appUrl}/launch?tenant=t1`, appUrl: `${appUrl}/saas` } });
  });
  afterAll(async () => {
    await sso.close();
    app.closeAllConnections();
    await new Promise((resolve) => app.close(resolve));
  });

  /** Presses a console button: the 303 from the emulator, then the app it points to. */
  async function launch(userId: string, mode: string) {
    const res = await fetch(`${sso.url}/console/launch`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ user_id: userId, mode }).toString(),
      redirect: 'manual',
    });
    return res;
  }

  it('lists the users with both launch buttons and no token', async () => {
    const res = await fetch(`${sso.url}/console`);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    for (const id of ['usr-alice', 'usr-bob']) expect(html).toContain(`name="user_id" value="${id}"`);
    expect(html).toContain('name="mode" value="auth"');
    expect(html).toContain('name="mode" value="saas"');
    expect(html).not.toMatch(/token=/);
  });

  it('opens authUrl?token= as the chosen user, with a token check_token accepts', async () => {
    const res = await launch('usr-bob', 'auth');
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(`${appUrl}/launch`);
    expect(location.searchParams.get('tenant')).toBe('t1');
    const landed = await (await fetch(location)).json();
    expect(landed).toEqual({ via: 'authUrl', tenant: 't1', status: 200, user: 'usr-bob' });
  });

  it('opens appUrl?access_token=…&refresh_token=… (the SaaS redirect) with valid tokens', async () => {
    const res = await launch('usr-alice', 'saas');
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(`${appUrl}/saas`);
    const landed = await (await fetch(location)).json();
    expect(landed).toEqual({ via: 'appUrl', status: 200, user: 'usr-alice', refreshToken: true });
  });

  it('refuses an unknown user or mode without minting a token', async () => {
    for (const [user, mode] of [
      ['usr-nobody', 'auth'],
      ['usr-bob', 'admin'],
    ]) {
      const res = await launch(user!, mode!);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
    }
  });

  it('says when an URL is not configured and refuses that launch', async () => {
    const bare = await startEmulator();
    try {
      const html = await (await fetch(`${bare.url}/console`)).text();
      expect(html).toContain('<em>not set</em>');
      expect(html).not.toContain('name="mode" value="auth"');
      const res = await fetch(`${bare.url}/console/launch`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'user_id=usr-bob&mode=auth',
        redirect: 'manual',
      });
      expect(res.status).toBe(400);
    } finally {
      await bare.close();
    }
  });

  it('refuses a console URL that is not an absolute http(s) URL, naming the option', async () => {
    await expect(startEmulator({ console: { authUrl: 'javascript:alert(1)' } })).rejects.toThrow(
      '"console.authUrl" must be an absolute http(s) URL without a fragment',
    );
  });
});
