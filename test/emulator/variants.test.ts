import { parseCli } from '../../lib/emulator/cli';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../lib/testing';

// The documented variants of the real SSO the emulator plays: ret_code written as a
// string or a number, present or absent on success; refresh answers carrying the check_token
// fields; every documented token_issuer; and the faults the session contract is tested with.

const CALLBACK = 'http://localhost:3000/callback';
const CLIENT = { client_id: 'example-client', client_secret: 'example-secret' };

let started: Emulator[] = [];
async function emulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emu = await startEmulator(options);
  started.push(emu);
  return emu;
}
afterEach(async () => {
  await Promise.all(started.map((e) => e.close()));
  started = [];
});

async function post(
  emu: Emulator,
  path: string,
  form: Record<string, string>,
  bearer?: string,
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
  const res = await fetch(`${emu.url}${path}`, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

const exchange = (emu: Emulator, code: string, extra: Record<string, string> = {}) =>
  post(emu, '/sso/token/', { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, ...CLIENT, ...extra });
const check = (emu: Emulator, token: string) => post(emu, '/sso/check_token/', {}, token);
const refresh = (emu: Emulator, token: string, rt: string) =>
  post(emu, '/sso/refresh_token/', { grant_type: 'refresh_token', refresh_token: rt }, token);

describe('retCodeType and retCodeOnSuccess', () => {
  it.each([
    ['number', 0, 2100, 2200],
    ['string', '0', '2100', '2200'],
  ] as const)(
    '%s: success, invalid_grant and invalid_token carry ret_code %j, %j, %j',
    async (retCodeType, ok, grant, token) => {
      const emu = await emulator({ retCodeType, retCodeOnSuccess: true, errorStyle: 'ret_code' });
      const tokens = await exchange(emu, emu.approve({ redirectUri: CALLBACK }));
      expect(tokens.json.ret_code).toStrictEqual(ok);
      expect((await check(emu, tokens.json.access_token as string)).json.ret_code).toStrictEqual(ok);
      expect(
        (await refresh(emu, tokens.json.access_token as string, tokens.json.refresh_token as string)).json.ret_code,
      ).toStrictEqual(ok);
      expect((await exchange(emu, 'bogus')).json).toEqual({ ret_code: grant, message: expect.any(String) });
      expect((await check(emu, 'bogus')).json).toEqual({ ret_code: token, message: expect.any(String) });
    },
  );

  it('without retCodeOnSuccess a success has no ret_code at all', async () => {
    const emu = await emulator({ retCodeType: 'string' });
    const tokens = await exchange(emu, emu.approve({ redirectUri: CALLBACK }));
    expect(tokens.json).not.toHaveProperty('ret_code');
    expect((await check(emu, tokens.json.access_token as string)).json).not.toHaveProperty('ret_code');
  });

  it('a retCode fault follows retCodeType, and a string retCode is sent as written', async () => {
    const emu = await emulator({ retCodeType: 'string' });
    emu.setFault('check_token', { type: 'retCode', retCode: 5100 }, { times: 1 });
    expect((await check(emu, 'x')).json.ret_code).toBe('5100');
    emu.setOptions({ retCodeType: 'number' });
    emu.setFault('check_token', { type: 'retCode', retCode: '5300' }, { times: 1 });
    expect((await check(emu, 'x')).json.ret_code).toBe('5300');
    emu.setFault('check_token', { type: 'retCode', retCode: 5000 }, { times: 1 });
    expect((await check(emu, 'x')).json.ret_code).toBe(5000);
  });
});

describe('refreshWithCredentials', () => {
  it('refresh answers carry access_key, secret_key, token and user: the same credentials check_token then returns', async () => {
    const emu = await emulator({ refreshWithCredentials: true });
    const first = emu.issueTokens('usr-bob');
    const next = await refresh(emu, first.access_token, first.refresh_token!);
    expect(next.json).toEqual({
      access_token: expect.any(String),
      expires_in: 3600,
      token_type: 'Bearer',
      refresh_token: expect.any(String),
      access_key: expect.stringMatching(/^TMP/),
      secret_key: expect.any(String),
      token: expect.any(String),
      user: expect.objectContaining({ user_id: 'usr-bob', user_name: 'bob' }),
    });
    expect(next.json.user).not.toHaveProperty('user_verify');
    const checked = await check(emu, next.json.access_token as string);
    expect(checked.json).toMatchObject({
      access_key: next.json.access_key,
      secret_key: next.json.secret_key,
      token: next.json.token,
    });
  });

  it('off by default: refresh answers carry the tokens only', async () => {
    const emu = await emulator();
    const first = emu.issueTokens();
    expect(Object.keys((await refresh(emu, first.access_token, first.refresh_token!)).json).sort()).toEqual([
      'access_token',
      'expires_in',
      'refresh_token',
      'token_type',
    ]);
  });
});

describe('token_issuer', () => {
  it.each(['sso', 'iam', 'app', 'app_dev'])('%s: Bearer with a refresh token', async (issuer) => {
    const emu = await emulator();
    const tokens = await exchange(emu, emu.approve({ redirectUri: CALLBACK }), { token_issuer: issuer });
    expect(tokens.json).toMatchObject({ token_type: 'Bearer', refresh_token: expect.any(String) });
  });

  it('iam_jwt: JWT without a refresh token; an unknown issuer is refused with the list', async () => {
    const emu = await emulator();
    expect(
      (await exchange(emu, emu.approve({ redirectUri: CALLBACK }), { token_issuer: 'iam_jwt' })).json,
    ).not.toHaveProperty('refresh_token');
    const bad = await exchange(emu, emu.approve({ redirectUri: CALLBACK }), { token_issuer: 'other' });
    expect(bad.json).toMatchObject({
      error: 'invalid_request',
      error_description: 'token_issuer must be one of sso, iam, iam_jwt, app, app_dev',
    });
    expect(() => emu.approve({ redirectUri: CALLBACK, tokenIssuer: 'x' as never })).toThrow(
      '"tokenIssuer" must be "sso", "iam", "iam_jwt", "app" or "app_dev"; received "x"',
    );
  });
});

describe('oauthError fault', () => {
  it('answers a JSON OAuth error: 401 with WWW-Authenticate for invalid_token, 400 otherwise, or the given status', async () => {
    const emu = await emulator();
    emu.setFault('check_token', { type: 'oauthError', error: 'invalid_token' }, { times: 1 });
    const token = await check(emu, 'x');
    expect(token.status).toBe(401);
    expect(token.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(token.json).toEqual({ error: 'invalid_token', error_description: 'emulated invalid_token' });
    emu.setFault('token', { type: 'oauthError', error: 'invalid_request' }, { times: 1 });
    expect((await exchange(emu, 'x')).status).toBe(400);
    emu.setFault(
      'token',
      { type: 'oauthError', error: 'access_denied', status: 403, description: 'waf' },
      { times: 1 },
    );
    expect(await exchange(emu, 'x')).toMatchObject({
      status: 403,
      json: { error: 'access_denied', error_description: 'waf' },
    });
  });
});

describe('validation', () => {
  it('refuses bad variant options and faults, naming them', async () => {
    await expect(startEmulator({ retCodeType: 'hex' as 'string' })).rejects.toThrow(
      '"retCodeType" must be "number" or "string"; received "hex"',
    );
    await expect(startEmulator({ refreshWithCredentials: 'yes' as never })).rejects.toThrow(
      '"refreshWithCredentials" must be true or false',
    );
    const emu = await emulator();
    for (const retCode of ['0', 0, 'abc', '5100x', 1.5])
      expect(() => emu.setFault('token', { type: 'retCode', retCode })).toThrow(/"fault.retCode"/);
    expect(() => emu.setFault('token', { type: 'oauthError', error: '' })).toThrow(/"fault.error"/);
    expect(() => emu.setFault('token', { type: 'oauthError', error: 'x', status: 99 })).toThrow(/"fault.status"/);
  });
});

describe('the bin', () => {
  it('maps --ret-code-on-success, --ret-code-type and --refresh-with-credentials', () => {
    expect(parseCli(['--ret-code-on-success', '--ret-code-type', 'string', '--refresh-with-credentials'], {})).toEqual({
      help: false,
      options: { retCodeOnSuccess: true, retCodeType: 'string', refreshWithCredentials: true },
    });
    expect(() => parseCli(['--ret-code-type', 'hex'], {})).toThrow(
      '--ret-code-type must be "number" or "string"; received "hex"',
    );
  });
});
