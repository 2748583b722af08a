import http from 'node:http';
import { EMULATOR_RET_CODES, startEmulator, type Emulator, type EmulatorOptions } from '../../lib/testing';

const CALLBACK = 'http://localhost:3000/callback';
const CLIENT = { client_id: 'example-client', client_secret: 'example-secret' };

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /* eslint-disable-next-line @typescript-eslint/no-explicit-any */
  json: any;
}

interface CallOptions {
  headers?: Record<string, string>;
  /** Sent as application/x-www-form-urlencoded; pairs allow repeated names. */
  form?: Record<string, string> | Array<[string, string]>;
  body?: string;
  timeoutMs?: number;
}

/** One request on a fresh connection (no pooling, so down()/faults never hit a stale socket). */
function call(emu: Emulator, method: string, path: string, opts: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  let body = opts.body;
  if (opts.form) {
    body = new URLSearchParams(opts.form).toString();
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
  }
  return new Promise((resolve, reject) => {
    const req = http.request(`${emu.url}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.setTimeout(opts.timeoutMs ?? 5000, () =>
      req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })),
    );
    req.on('error', reject);
    req.end(body);
  });
}

function authorizePath(params: Record<string, string>): string {
  return `/sso/oauth2/?${new URLSearchParams({ client_id: 'example-client', response_type: 'code', redirect_uri: CALLBACK, ...params })}`;
}

function location(reply: Reply): URL {
  expect(reply.status).toBe(302);
  return new URL(String(reply.headers.location));
}

/** Hidden fields of the sign-in form, as a browser would submit them. */
function hiddenFields(html: string): Record<string, string> {
  const decode = (v: string): string => v.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
  return Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
      m[1] ?? '',
      decode(m[2] ?? ''),
    ]),
  );
}

async function codeFor(emu: Emulator, user = 'usr-alice', state = 'st-1'): Promise<string> {
  const reply = await call(emu, 'POST', '/sso/oauth2/approve', {
    form: {
      client_id: 'example-client',
      response_type: 'code',
      redirect_uri: CALLBACK,
      state,
      user,
      action: 'approve',
    },
  });
  return location(reply).searchParams.get('code') ?? '';
}

function exchange(emu: Emulator, code: string, extra: Record<string, string> = {}): Promise<Reply> {
  return call(emu, 'POST', '/sso/token/', {
    form: { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, ...CLIENT, ...extra },
  });
}

function check(emu: Emulator, accessToken: string, form?: Record<string, string>): Promise<Reply> {
  return call(emu, 'POST', '/sso/check_token/', {
    headers: { authorization: `Bearer ${accessToken}` },
    ...(form ? { form } : {}),
  });
}

function refresh(emu: Emulator, accessToken: string, refreshToken: string): Promise<Reply> {
  return call(emu, 'POST', '/sso/refresh_token/', {
    headers: { authorization: `Bearer ${accessToken}` },
    form: { grant_type: 'refresh_token', refresh_token: refreshToken },
  });
}

function decodeJwtPayload(token: string): Record<string, unknown> {
  const parts = token.split('.');
  expect(parts).toHaveLength(3);
  return JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

const START = Date.parse('2030-01-01T00:00:00Z');
let emu: Emulator;
let now = START;
const others: Emulator[] = [];

async function fresh(options: EmulatorOptions = {}): Promise<Emulator> {
  const instance = await startEmulator({ clock: () => now, ...options });
  others.push(instance);
  return instance;
}

beforeEach(async () => {
  now = START;
  emu = await fresh();
});

afterEach(async () => {
  await Promise.all(others.splice(0).map((e) => e.close()));
});

describe('full flow', () => {
  it('authorize page -> approve -> token -> check_token -> refresh', async () => {
    const page = await call(emu, 'GET', authorizePath({ state: 'abc 123/+=' }));
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.text).toContain('id="sign-in"');
    expect(page.text).toMatch(/<input type="radio" name="user" value="usr-alice" checked>/);
    expect(page.text).toContain('name="username"');
    expect(page.text).toContain('action="approve"');
    const fields = hiddenFields(page.text);
    expect(fields).toEqual({
      client_id: 'example-client',
      response_type: 'code',
      redirect_uri: CALLBACK,
      state: 'abc 123/+=',
    });

    const approved = await call(emu, 'POST', '/sso/oauth2/approve', {
      form: { ...fields, user: 'usr-bob', username: '', action: 'approve' },
    });
    const back = location(approved);
    expect(back.origin + back.pathname).toBe(CALLBACK);
    expect(back.searchParams.get('state')).toBe('abc 123/+=');
    const code = back.searchParams.get('code') ?? '';
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const token = await exchange(emu, code);
    expect(token.status).toBe(200);
    expect(token.headers['cache-control']).toBe('no-store');
    expect(token.json).toEqual({
      access_token: expect.any(String),
      expires_in: 3600,
      token_type: 'Bearer',
      refresh_token: expect.any(String),
    });

    const checked = await check(emu, token.json.access_token);
    expect(checked.status).toBe(200);
    expect(checked.json.access_key).toMatch(/^TMP[A-Z0-9]{17}$/);
    expect(checked.json.secret_key).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(checked.json.user).toEqual({
      user_id: 'usr-bob',
      user_name: 'bob',
      email: 'bob@example.com',
      phone: expect.any(String),
      lang: 'zh-cn',
    });
    const payload = decodeJwtPayload(checked.json.token);
    expect(payload).toMatchObject({
      sub: 'usr-bob',
      ak: checked.json.access_key,
      iat: START / 1000,
      exp: START / 1000 + 3600,
    });
    expect((await check(emu, token.json.access_token)).json).toEqual(checked.json); // stable per access token
    expect(emu.lookupAccessKey(checked.json.access_key)).toMatchObject({
      secretKey: checked.json.secret_key,
      token: checked.json.token,
      expiresAt: START + 3600_000,
      user: { user_id: 'usr-bob' },
    });

    const renewed = await refresh(emu, token.json.access_token, token.json.refresh_token);
    expect(renewed.status).toBe(200);
    expect(renewed.json.access_token).not.toBe(token.json.access_token);
    expect(renewed.json.refresh_token).not.toBe(token.json.refresh_token);
    expect((await check(emu, renewed.json.access_token)).json.user.user_id).toBe('usr-bob');
  });

  it('omits state when none was sent and keeps the query already in redirect_uri', async () => {
    emu.setOptions({ autoApprove: true });
    const withQuery = 'http://127.0.0.1:8080/cb?tenant=a%20b&x=1';
    const reply = await call(emu, 'GET', authorizePath({ redirect_uri: withQuery }));
    expect(String(reply.headers.location)).toMatch(/^http:\/\/127\.0\.0\.1:8080\/cb\?tenant=a%20b&x=1&code=[\w-]+$/);
    const code = location(reply).searchParams.get('code') ?? '';
    expect((await exchange(emu, code, { redirect_uri: withQuery })).status).toBe(200);
  });

  it('auto-approves as a given user and echoes an empty state', async () => {
    const auto = await fresh({ autoApprove: 'usr-bob' });
    const back = location(await call(auto, 'GET', authorizePath({ state: '' })));
    expect(back.searchParams.get('state')).toBe('');
    const token = await exchange(auto, back.searchParams.get('code') ?? '');
    expect((await check(auto, token.json.access_token)).json.user.user_id).toBe('usr-bob');
  });

  it('Cancel redirects with error=access_denied and the state', async () => {
    const reply = await call(emu, 'POST', '/sso/oauth2/approve', {
      form: {
        client_id: 'example-client',
        response_type: 'code',
        redirect_uri: CALLBACK,
        state: 's1',
        user: 'usr-alice',
        action: 'cancel',
      },
    });
    const back = location(reply);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe('s1');
    expect(back.searchParams.has('code')).toBe(false);
  });

  it('a typed unknown user name creates that user', async () => {
    const reply = await call(emu, 'POST', '/sso/oauth2/approve', {
      form: {
        client_id: 'example-client',
        response_type: 'code',
        redirect_uri: CALLBACK,
        user: 'usr-alice',
        username: ' Carol ',
        action: 'approve',
      },
    });
    const token = await exchange(emu, location(reply).searchParams.get('code') ?? '');
    expect((await check(emu, token.json.access_token)).json.user).toMatchObject({
      user_id: 'usr-carol',
      user_name: 'Carol',
    });
    expect((await call(emu, 'GET', authorizePath({}))).text).toContain('value="usr-carol"');
  });
});

describe('authorize validation', () => {
  it.each([
    ['unknown client_id', { client_id: 'nope' }],
    ['wrong response_type', { response_type: 'token' }],
    ['remote redirect_uri', { redirect_uri: 'https://evil.example/cb' }],
    ['non-http redirect_uri', { redirect_uri: 'javascript://localhost/%0aalert(1)' }],
    ['redirect_uri with userinfo', { redirect_uri: 'http://evil.example@localhost/cb' }],
    ['redirect_uri with a tab', { redirect_uri: 'http://local\thost/cb' }],
    ['redirect_uri with a fragment', { redirect_uri: 'http://localhost/cb#x' }],
    ['missing redirect_uri', { redirect_uri: '' }],
  ])('%s -> 400 page, no redirect', async (_name, params) => {
    const reply = await call(emu, 'GET', authorizePath(params));
    expect(reply.status).toBe(400);
    expect(reply.headers.location).toBeUndefined();
    expect(reply.headers['content-type']).toMatch(/^text\/html/);
  });

  it('registered redirectUris match exactly', async () => {
    const strict = await fresh({ redirectUris: ['https://app.example/callback'], autoApprove: true });
    expect((await call(strict, 'GET', authorizePath({ redirect_uri: 'https://app.example/callback' }))).status).toBe(
      302,
    );
    expect((await call(strict, 'GET', authorizePath({ redirect_uri: 'https://app.example/callback/' }))).status).toBe(
      400,
    );
    expect((await call(strict, 'GET', authorizePath({ redirect_uri: CALLBACK }))).status).toBe(400);
  });

  it('repeated parameters -> 400', async () => {
    const reply = await call(emu, 'GET', `${authorizePath({})}&state=a&state=b`);
    expect(reply.status).toBe(400);
  });

  it('the approve form re-validates everything', async () => {
    const base = { client_id: 'example-client', response_type: 'code', redirect_uri: CALLBACK, user: 'usr-alice' };
    expect(
      (await call(emu, 'POST', '/sso/oauth2/approve', { form: { ...base, redirect_uri: 'https://evil.example/' } }))
        .status,
    ).toBe(400);
    expect((await call(emu, 'POST', '/sso/oauth2/approve', { form: { ...base, user: 'usr-nobody' } })).status).toBe(
      400,
    );
    expect((await call(emu, 'POST', '/sso/oauth2/approve', { form: { ...base, action: 'delete' } })).status).toBe(400);
    expect(
      (
        await call(emu, 'POST', '/sso/oauth2/approve', {
          body: JSON.stringify(base),
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(400);
    expect((await call(emu, 'GET', '/sso/oauth2/approve')).status).toBe(405);
  });

  it('the sign-in page HTML-escapes a malicious state and redirect_uri', async () => {
    const evil = '"><script>alert(1)</script><x y=\'&amp;';
    const evilUri = 'http://localhost/cb?q="><script>alert(2)</script><x/y=\'';
    const reply = await call(emu, 'GET', authorizePath({ state: evil, redirect_uri: evilUri }));
    expect(reply.status).toBe(200);
    expect(reply.text).not.toContain('<script>');
    expect(reply.text).not.toMatch(/<x[ /]/);
    expect(reply.text).toContain('&#34;&#62;&#60;script&#62;alert(1)');
    expect(hiddenFields(reply.text)).toMatchObject({ state: evil, redirect_uri: evilUri });
    // The error page escapes what it reflects too (here a repeated parameter's name).
    const refused = await call(emu, 'GET', `${authorizePath({})}&%3Cscript%3E=1&%3Cscript%3E=2`);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('&#60;script&#62;');
    expect(refused.text).not.toContain('<script>');
  });

  it('approve() validates like the page and returns an exchangeable code', async () => {
    expect(() => emu.approve({ redirectUri: 'https://evil.example/' })).toThrow(/redirect_uri/);
    expect(() => emu.approve({ redirectUri: CALLBACK, userId: 'nobody' })).toThrow(/userId/);
    const code = emu.approve({ redirectUri: CALLBACK, userId: 'usr-bob', tokenIssuer: 'iam_jwt' });
    expect((await exchange(emu, code)).json.token_type).toBe('JWT');
  });
});

describe('token endpoint', () => {
  it('refuses a wrong client secret and an unknown client (401 invalid_client)', async () => {
    const code = await codeFor(emu);
    for (const extra of [{ client_secret: 'wrong' }, { client_id: 'other' }] as Array<Record<string, string>>) {
      const reply = await exchange(emu, code, extra);
      expect(reply.status).toBe(401);
      expect(reply.json.error).toBe('invalid_client');
    }
    expect((await exchange(emu, code)).status).toBe(200); // refusals did not consume the code
  });

  it('codes are single-use; a replay also revokes the tokens of the first exchange', async () => {
    const code = await codeFor(emu);
    const first = await exchange(emu, code);
    expect(first.status).toBe(200);
    const second = await exchange(emu, code);
    expect(second.status).toBe(400);
    expect(second.json).toEqual({ error: 'invalid_grant', error_description: 'authorization code already used' });
    expect((await check(emu, first.json.access_token)).status).toBe(401);
    expect((await refresh(emu, first.json.access_token, first.json.refresh_token)).json.error).toBe('invalid_grant');
  });

  it('codes expire after codeTtl', async () => {
    const code = await codeFor(emu);
    now += 60_000;
    const reply = await exchange(emu, code);
    expect(reply.status).toBe(400);
    expect(reply.json.error_description).toMatch(/expired/);
    emu.setOptions({ codeTtl: 120 });
    const later = await codeFor(emu);
    now += 119_000;
    expect((await exchange(emu, later)).status).toBe(200);
  });

  it('redirect_uri must be identical to the authorize request', async () => {
    const code = await codeFor(emu);
    const reply = await exchange(emu, code, { redirect_uri: `${CALLBACK}/` });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toBe('invalid_grant');
  });

  it('the code must be exchanged by the client it was issued to', async () => {
    const two = await fresh({
      clients: [
        { clientId: 'a', clientSecret: 'sa' },
        { clientId: 'b', clientSecret: 'sb' },
      ],
    });
    const code = two.approve({ clientId: 'a', redirectUri: CALLBACK });
    const reply = await exchange(two, code, { client_id: 'b', client_secret: 'sb' });
    expect(reply.json).toMatchObject({ error: 'invalid_grant' });
    expect((await exchange(two, code, { client_id: 'a', client_secret: 'sa' })).status).toBe(200);
  });

  it('accepts only form bodies', async () => {
    const code = await codeFor(emu);
    const body = JSON.stringify({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK, ...CLIENT });
    const json = await call(emu, 'POST', '/sso/token/', { body, headers: { 'content-type': 'application/json' } });
    expect(json.status).toBe(400);
    expect(json.json.error).toBe('invalid_request');
    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: CALLBACK,
      ...CLIENT,
    }).toString();
    const charset = await call(emu, 'POST', '/sso/token/', {
      body: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
    });
    expect(charset.status).toBe(200);
  });

  it('refuses repeated, missing and unsupported parameters', async () => {
    const code = await codeFor(emu);
    const base: Array<[string, string]> = [
      ['grant_type', 'authorization_code'],
      ['code', code],
      ['redirect_uri', CALLBACK],
      ['client_id', CLIENT.client_id],
      ['client_secret', CLIENT.client_secret],
    ];
    const repeated = await call(emu, 'POST', '/sso/token/', { form: [...base, ['client_id', 'example-client']] });
    expect(repeated.json).toMatchObject({
      error: 'invalid_request',
      error_description: expect.stringContaining('repeated'),
    });
    const missing = await call(emu, 'POST', '/sso/token/', { form: base.filter(([k]) => k !== 'redirect_uri') });
    expect(missing.json).toMatchObject({
      error: 'invalid_request',
      error_description: expect.stringContaining('redirect_uri'),
    });
    const grant = await exchange(emu, code, { grant_type: 'password' });
    expect(grant.json.error).toBe('unsupported_grant_type');
    const issuer = await exchange(emu, code, { token_issuer: 'other' });
    expect(issuer.json.error).toBe('invalid_request');
    expect((await exchange(emu, code, { token_issuer: 'iam' })).json.token_type).toBe('Bearer');
  });

  it('token_issuer=iam_jwt: token_type JWT and no refresh token', async () => {
    const reply = await exchange(emu, await codeFor(emu), { token_issuer: 'iam_jwt' });
    expect(reply.json.token_type).toBe('JWT');
    expect(reply.json).not.toHaveProperty('refresh_token');
    expect(decodeJwtPayload(reply.json.access_token)).toMatchObject({ sub: 'usr-alice' });
    expect((await check(emu, reply.json.access_token)).status).toBe(200);
  });

  it('refreshTokens: false issues no refresh token; retCodeOnSuccess adds ret_code 0', async () => {
    const quiet = await fresh({ refreshTokens: false, retCodeOnSuccess: true });
    const reply = await exchange(quiet, quiet.approve({ redirectUri: CALLBACK }));
    expect(reply.json).toEqual({
      ret_code: 0,
      access_token: expect.any(String),
      expires_in: 3600,
      token_type: 'Bearer',
    });
    expect((await check(quiet, reply.json.access_token)).json.ret_code).toBe(0);
  });
});

describe('check_token endpoint', () => {
  it('requires one well-formed Bearer header', async () => {
    const { access_token } = emu.issueTokens();
    expect((await call(emu, 'POST', '/sso/check_token/')).json.error).toBe('invalid_request');
    expect(
      (await call(emu, 'POST', '/sso/check_token/', { headers: { authorization: `Basic ${access_token}` } })).json
        .error,
    ).toBe('invalid_request');
    expect((await call(emu, 'POST', '/sso/check_token/', { headers: { authorization: 'Bearer ' } })).status).toBe(400);
    expect(
      (await call(emu, 'POST', '/sso/check_token/', { headers: { authorization: `bearer ${access_token}` } })).status,
    ).toBe(200);
  });

  it('refuses unknown, expired and revoked tokens with 401 invalid_token', async () => {
    const unknown = await check(emu, 'not-a-token');
    expect(unknown.status).toBe(401);
    expect(unknown.json.error).toBe('invalid_token');
    expect(unknown.headers['www-authenticate']).toContain('invalid_token');
    const short = emu.issueTokens('usr-alice', { accessTokenTtl: 10 });
    expect(short.expires_in).toBe(10);
    expect((await check(emu, short.access_token)).status).toBe(200);
    now += 10_000;
    expect((await check(emu, short.access_token)).json.error_description).toMatch(/expired/);
    const other = emu.issueTokens();
    emu.revokeToken(other.access_token);
    expect((await check(emu, other.access_token)).json.error_description).toMatch(/revoked/);
  });

  it('adds user_verify only with is_filter_user_verify=1', async () => {
    const { access_token } = emu.issueTokens();
    expect((await check(emu, access_token)).json.user).not.toHaveProperty('user_verify');
    expect((await check(emu, access_token, { is_filter_user_verify: '0' })).json.user).not.toHaveProperty(
      'user_verify',
    );
    expect((await check(emu, access_token, { is_filter_user_verify: '1' })).json.user.user_verify).toEqual({
      email_verified: true,
      phone_verified: true,
      mfa_enabled: false,
    });
    expect((await check(emu, access_token, { is_filter_user_verify: 'yes' })).status).toBe(400);
  });

  it('re-issues temporary credentials once they expire (stsTokenTtl)', async () => {
    const sts = await fresh({ stsTokenTtl: 60 });
    const { access_token } = sts.issueTokens();
    const first = (await check(sts, access_token)).json;
    now += 59_000;
    expect((await check(sts, access_token)).json.access_key).toBe(first.access_key);
    now += 1_000;
    const second = (await check(sts, access_token)).json;
    expect(second.access_key).not.toBe(first.access_key);
    expect(decodeJwtPayload(second.token).exp).toBe((now + 60_000) / 1000);
  });
});

describe('refresh_token endpoint', () => {
  it('rotates: the old refresh and access tokens stop working at once', async () => {
    const first = emu.issueTokens();
    now += 4000 * 1000; // the access token has expired: still a valid Bearer for refresh
    const second = (await refresh(emu, first.access_token, first.refresh_token ?? '')).json;
    expect(second).toEqual({
      access_token: expect.any(String),
      expires_in: 3600,
      token_type: 'Bearer',
      refresh_token: expect.any(String),
    });
    const replay = await refresh(emu, first.access_token, first.refresh_token ?? '');
    expect(replay.status).toBe(400);
    expect(replay.json.error).toBe('invalid_grant');
    expect((await check(emu, second.access_token)).status).toBe(200);
    const third = await refresh(emu, second.access_token, second.refresh_token);
    expect(third.status).toBe(200);
    expect((await check(emu, second.access_token)).status).toBe(401);
  });

  it('without rotation returns the same refresh token, which keeps working', async () => {
    emu.setOptions({ rotateRefreshTokens: false });
    const first = emu.issueTokens();
    const second = (await refresh(emu, first.access_token, first.refresh_token ?? '')).json;
    expect(second.refresh_token).toBe(first.refresh_token);
    const third = (await refresh(emu, second.access_token, first.refresh_token ?? '')).json;
    expect(third.refresh_token).toBe(first.refresh_token);
    expect((await check(emu, first.access_token)).status).toBe(200);
  });

  it('requires a Bearer of the same grant and a live refresh token', async () => {
    const a = emu.issueTokens();
    const b = emu.issueTokens('usr-bob');
    const noBearer = await call(emu, 'POST', '/sso/refresh_token/', {
      form: { grant_type: 'refresh_token', refresh_token: a.refresh_token ?? '' },
    });
    expect(noBearer.json.error).toBe('invalid_request');
    expect((await refresh(emu, b.access_token, a.refresh_token ?? '')).json.error).toBe('invalid_grant');
    expect((await refresh(emu, 'unknown', a.refresh_token ?? '')).json.error).toBe('invalid_token');
    expect((await refresh(emu, a.access_token, 'unknown')).json.error).toBe('invalid_grant');
    const wrongGrant = await call(emu, 'POST', '/sso/refresh_token/', {
      headers: { authorization: `Bearer ${a.access_token}` },
      form: { grant_type: 'authorization_code', refresh_token: a.refresh_token ?? '' },
    });
    expect(wrongGrant.json.error).toBe('unsupported_grant_type');
    emu.revokeToken(b.refresh_token ?? '');
    expect((await refresh(emu, b.access_token, b.refresh_token ?? '')).json.error_description).toMatch(/revoked/);
    now += 30 * 24 * 3600 * 1000;
    expect((await refresh(emu, a.access_token, a.refresh_token ?? '')).json.error_description).toMatch(/expired/);
  });

  it('revokeUser ends every session of that user', async () => {
    const a1 = emu.issueTokens('usr-alice');
    const a2 = emu.issueTokens('usr-alice');
    const b = emu.issueTokens('usr-bob');
    const creds = (await check(emu, a1.access_token)).json;
    emu.revokeUser('usr-alice');
    expect((await check(emu, a1.access_token)).status).toBe(401);
    expect((await refresh(emu, a2.access_token, a2.refresh_token ?? '')).status).toBe(400);
    expect(emu.lookupAccessKey(creds.access_key)).toBeUndefined();
    expect((await check(emu, b.access_token)).status).toBe(200);
  });
});

describe('errorStyle', () => {
  it("'ret_code' answers HTTP 200 with the documented codes", async () => {
    const rc = await fresh({ errorStyle: 'ret_code' });
    const code = rc.approve({ redirectUri: CALLBACK });
    const cases: Array<[Promise<Reply>, number]> = [
      [
        call(rc, 'POST', '/sso/token/', { form: { grant_type: 'authorization_code' } }),
        EMULATOR_RET_CODES.invalid_request,
      ],
      [exchange(rc, code, { client_secret: 'bad' }), EMULATOR_RET_CODES.invalid_client],
      [exchange(rc, 'bogus'), EMULATOR_RET_CODES.invalid_grant],
      [check(rc, 'bogus'), EMULATOR_RET_CODES.invalid_token],
    ];
    for (const [pending, retCode] of cases) {
      const reply = await pending;
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual({ ret_code: retCode, message: expect.any(String) });
    }
    expect(EMULATOR_RET_CODES).toEqual({
      invalid_request: 1100,
      invalid_client: 1200,
      invalid_grant: 2100,
      invalid_token: 2200,
    });
  });

  it('can be switched at run time', async () => {
    expect((await check(emu, 'bogus')).status).toBe(401);
    emu.setOptions({ errorStyle: 'ret_code' });
    expect((await check(emu, 'bogus')).json.ret_code).toBe(2200);
  });
});

describe('faults', () => {
  it('reset: the client sees a socket error', async () => {
    emu.setFault('token', { type: 'reset' });
    await expect(exchange(emu, 'x')).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|EPIPE/) });
  });

  it('hang: no answer until the client times out', async () => {
    emu.setFault('check_token', { type: 'hang' });
    await expect(call(emu, 'POST', '/sso/check_token/', { timeoutMs: 150 })).rejects.toMatchObject({
      code: 'CLIENT_TIMEOUT',
    });
  });

  it('slow: answers normally after delayMs', async () => {
    const { access_token } = emu.issueTokens();
    emu.setFault('check_token', { type: 'slow', delayMs: 300 });
    await expect(
      call(emu, 'POST', '/sso/check_token/', { headers: { authorization: `Bearer ${access_token}` }, timeoutMs: 100 }),
    ).rejects.toMatchObject({ code: 'CLIENT_TIMEOUT' });
    const started = Date.now();
    const reply = await check(emu, access_token);
    expect(reply.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });

  it('status, garbage, truncated, retCode, missingFields and custom answers', async () => {
    emu.setFault('token', { type: 'status', status: 502 });
    const bad = await exchange(emu, 'x');
    expect(bad.status).toBe(502);
    expect(bad.headers['content-type']).toMatch(/^text\/html/);
    expect(bad.text).toContain('502 Bad Gateway');
    emu.setFault('token', { type: 'status', status: 503, body: 'down', contentType: 'text/plain' });
    expect(await exchange(emu, 'x')).toMatchObject({ status: 503, text: 'down' });
    emu.setFault('token', { type: 'garbage' });
    const garbage = await exchange(emu, 'x');
    expect(garbage.status).toBe(200);
    expect(garbage.json).toBeUndefined();
    emu.setFault('token', { type: 'truncated' });
    const truncated = await exchange(emu, 'x');
    expect(truncated.headers['content-type']).toMatch(/^application\/json/);
    expect(() => JSON.parse(truncated.text)).toThrow();
    emu.setFault('token', { type: 'retCode', retCode: 5000, message: 'busy' });
    expect((await exchange(emu, 'x')).json).toEqual({ ret_code: 5000, message: 'busy' });
    emu.setFault('check_token', { type: 'missingFields' });
    const partial = (await check(emu, 'x')).json;
    expect(partial).not.toHaveProperty('secret_key');
    emu.setFault('refresh_token', { type: 'custom', status: 429, body: '{"error":"slow_down"}' });
    expect(await refresh(emu, 'x', 'y')).toMatchObject({ status: 429, json: { error: 'slow_down' } });
  });

  it('huge: at least the requested number of bytes', async () => {
    emu.setFault('token', { type: 'huge', bytes: 1024 * 1024 });
    const reply = await exchange(emu, 'x');
    expect(reply.status).toBe(200);
    expect(Buffer.byteLength(reply.text)).toBeGreaterThanOrEqual(1024 * 1024);
  });

  it('times: applies to the next N calls only; null and clearFaults clear', async () => {
    const { access_token } = emu.issueTokens();
    emu.setFault('check_token', { type: 'status', status: 500 }, { times: 2 });
    expect((await check(emu, access_token)).status).toBe(500);
    expect((await check(emu, access_token)).status).toBe(500);
    expect((await check(emu, access_token)).status).toBe(200);
    emu.setFault('check_token', { type: 'status', status: 500 });
    emu.setFault('check_token', null);
    expect((await check(emu, access_token)).status).toBe(200);
    emu.setFault('check_token', { type: 'garbage' });
    emu.clearFaults();
    expect((await check(emu, access_token)).status).toBe(200);
  });

  it('validates faults', () => {
    expect(() => emu.setFault('nope' as 'token', { type: 'reset' })).toThrow(/"endpoint"/);
    expect(() => emu.setFault('token', { type: 'explode' } as never)).toThrow(/"fault.type"/);
    expect(() => emu.setFault('token', { type: 'slow', delayMs: -1 })).toThrow(/"fault.delayMs"/);
    expect(() => emu.setFault('token', { type: 'reset' }, { times: 0 })).toThrow(/"times"/);
  });
});

describe('counters', () => {
  it('counts every call per endpoint, faulted and rejected ones included', async () => {
    emu.setFault('token', { type: 'status', status: 503 }, { times: 1 });
    await exchange(emu, 'x');
    await exchange(emu, 'x');
    await call(emu, 'GET', '/sso/token/');
    await call(emu, 'GET', authorizePath({}));
    await check(emu, 'x');
    await call(emu, 'GET', '/nope');
    await call(emu, 'GET', '/health');
    expect(emu.counts).toEqual({ authorize: 1, token: 3, check_token: 1, refresh_token: 0, iam: 0 });
    emu.resetCounts();
    expect(emu.counts).toEqual({ authorize: 0, token: 0, check_token: 0, refresh_token: 0, iam: 0 });
  });
});

describe('strictness', () => {
  it('404 for unknown paths (no logout, exact trailing slashes), 405 for wrong methods, 413 for big bodies', async () => {
    expect((await call(emu, 'GET', '/sso/logout/')).status).toBe(404);
    expect((await call(emu, 'POST', '/sso/token')).status).toBe(404);
    const wrong = await call(emu, 'GET', '/sso/check_token/');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('POST');
    expect((await call(emu, 'POST', '/sso/oauth2/')).status).toBe(405);
    const big = await call(emu, 'POST', '/sso/token/', {
      form: { grant_type: 'authorization_code', code: 'x'.repeat(70 * 1024) },
    });
    expect(big.status).toBe(413);
    expect(await call(emu, 'GET', '/health')).toMatchObject({ status: 200, text: 'ok' });
  });
});

describe('lifecycle', () => {
  it('down() refuses connections and up() serves again on the same port with the same state', async () => {
    const { access_token } = emu.issueTokens();
    const port = emu.port;
    await emu.down();
    await expect(check(emu, access_token)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await emu.up();
    expect(emu.port).toBe(port);
    expect((await check(emu, access_token)).status).toBe(200);
  });

  it('close() resolves with a hanging request open', async () => {
    const target = await startEmulator();
    target.setFault('token', { type: 'hang' });
    const pending = exchange(target, 'x').catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 50));
    await target.close();
    expect(await pending).toMatchObject({ code: expect.stringMatching(/ECONNRESET|socket hang up/i) });
    await target.close(); // idempotent
    await expect(target.up()).rejects.toThrow(/closed/);
  });
});

describe('options', () => {
  it("refuses bad options with an invalid_option SsoGuardError naming them (the package's one message format)", async () => {
    await expect(startEmulator({ accessTokenTtl: -5 })).rejects.toThrow(
      '"accessTokenTtl" must be a positive number of seconds; received -5',
    );
    await expect(startEmulator({ errorStyle: 'json' as 'status' })).rejects.toMatchObject({
      code: 'invalid_option',
      message: '"errorStyle" must be "status" or "ret_code"; received "json"',
    });
    await expect(startEmulator({ autoApprove: 'usr-nobody' })).rejects.toThrow(/"autoApprove"/);
    await expect(startEmulator({ accesTokenTtl: 5 } as EmulatorOptions)).rejects.toThrow(
      'Did you mean "accessTokenTtl"?',
    );
    await expect(startEmulator({ clients: [{ clientId: 'a', clientSecret: 'b' }], clientId: 'c' })).rejects.toThrow(
      /"clients"/,
    );
    await expect(startEmulator({ users: [{ user_id: '', user_name: 'x' }] })).rejects.toThrow(/"users\[0\]\.user_id"/);
    expect(() => emu.setOptions({ codeTtl: 0 })).toThrow(/"codeTtl"/);
    expect(() => emu.setOptions({ clock: Date.now } as never)).toThrow('Unknown option "clock".');
  });

  it('logs method, path and status, never tokens', async () => {
    const lines: string[] = [];
    const logged = await fresh({ logger: (line) => lines.push(line) });
    const tokens = logged.issueTokens();
    await check(logged, tokens.access_token);
    expect(lines).toEqual(['POST /sso/check_token/ -> 200']);
  });

  it('routes: mounts a handler under a prefix, counted and faulted as its endpoint', async () => {
    const seen: string[] = [];
    const withIam = await fresh({
      routes: {
        '/iam/': (req, res, body) => {
          seen.push(`${req.method} ${req.url} ${body}`);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"ret_code":0}');
        },
      },
    });
    expect((await call(withIam, 'POST', '/iam/?Action=X', { body: 'a=1' })).json).toEqual({ ret_code: 0 });
    expect((await call(withIam, 'GET', '/iam')).status).toBe(200);
    expect((await call(withIam, 'GET', '/iamx')).status).toBe(404);
    expect(seen).toEqual(['POST /iam/?Action=X a=1', 'GET /iam ']);
    withIam.setFault('iam', { type: 'status', status: 503 }, { times: 1 });
    expect((await call(withIam, 'GET', '/iam/')).status).toBe(503);
    expect(withIam.counts.iam).toBe(3);
  });
});
