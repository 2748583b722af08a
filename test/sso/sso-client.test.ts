import { createCore } from '../../lib/instance';
import { gzipSync } from 'node:zlib';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { SsoGuardError } from '../../lib/errors';
import { SsoClient } from '../../lib/sso/sso-client';
import type { SsoGuardOptions } from '../../lib/options';
import type { Emulator } from '../../lib/testing';
import { APP_BASE_URL, startTestEmulator } from '../helpers/app';
import { CLIENT_ID, CLIENT_SECRET, testOptions } from '../helpers/options';
import { startRawSso, type RawAnswer, type RawSso } from '../helpers/raw-sso';
import { trackUnhandledRejections } from '../helpers/serve';
import { failure } from '../helpers/failure';
import {
  REFLECTION_MARK,
  answerArb,
  expectedOutcome,
  parsedBody,
  type JsonEndpoint,
  type SsoAnswer,
} from '../helpers/sso-answers';

trackUnhandledRejections();

const REDIRECT_URI = `${APP_BASE_URL}/callback`;
const TIMEOUT = 400;
/** How late a timed-out call may settle past `httpTimeout` on a busy 2-core machine. */
const MARGIN = 250;

function client(ssoBaseUrl: string, options: SsoGuardOptions = {}): SsoClient {
  return createCore(testOptions({ ssoBaseUrl, httpTimeout: TIMEOUT, ...options })).sso;
}

/** Everything an error could show when logged: message, stack, cause chain, own properties. */
function errorText(err: unknown): string {
  const parts: string[] = [];
  for (
    let e: unknown = err, depth = 0;
    e !== undefined && e !== null && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    parts.push(String((e as Error).message), String((e as Error).stack), inspect(e, { depth: 6, showHidden: true }));
  }
  return parts.join('\n');
}

describe('SsoClient against the emulator', () => {
  let sso: Emulator;
  beforeAll(async () => {
    sso = await startTestEmulator();
  });
  afterAll(() => sso.close());
  beforeEach(() => {
    sso.clearFaults();
    sso.setOptions({ errorStyle: 'status', retCodeOnSuccess: false, refreshTokens: true, rotateRefreshTokens: true });
  });

  it('builds the authorize URL the SSO expects', () => {
    const url = new URL(client(sso.url).authorizeUrl('st-1'));
    expect(url.origin + url.pathname).toBe(`${sso.url}/sso/oauth2/`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: CLIENT_ID,
      state: 'st-1',
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
    });
  });

  it.each(['status', 'ret_code'] as const)(
    'exchanges a code, checks the token and refreshes it (%s error style, ret_code 0 on success)',
    async (errorStyle) => {
      sso.setOptions({ errorStyle, retCodeOnSuccess: errorStyle === 'ret_code' });
      const c = client(sso.url);
      const tokens = await c.exchangeCode(sso.approve({ redirectUri: REDIRECT_URI }));
      expect(tokens).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        expiresIn: 3600,
        tokenType: 'Bearer',
      });
      const check = await c.checkToken(tokens.accessToken);
      expect(check).toEqual({
        user: expect.objectContaining({ user_id: 'usr-alice' }),
        credentials: {
          accessKey: expect.stringMatching(/^TMP/),
          secretKey: expect.any(String),
          token: expect.any(String),
        },
      });
      expect(check!.user.user_verify).toBeUndefined();
      const next = await c.refresh(tokens.accessToken, tokens.refreshToken!);
      expect(next.accessToken).not.toBe(tokens.accessToken);
      expect(next.refreshToken).not.toBe(tokens.refreshToken);
      // Rotation: the old refresh token and the old access token are dead now.
      expect((await failure(c.refresh(tokens.accessToken, tokens.refreshToken!))).code).toBe('refresh_rejected');
      expect(await c.checkToken(tokens.accessToken)).toBeUndefined();
      expect(await c.checkToken(next.accessToken)).toBeDefined();
    },
  );

  it.each(['status', 'ret_code'] as const)(
    'maps refusals (%s error style): a used code, an unknown token, a revoked refresh token',
    async (errorStyle) => {
      sso.setOptions({ errorStyle });
      const c = client(sso.url);
      const code = sso.approve({ redirectUri: REDIRECT_URI });
      const tokens = await c.exchangeCode(code);
      expect((await failure(c.exchangeCode(code))).code).toBe('code_rejected');
      expect(await c.checkToken('not-a-token')).toBeUndefined();
      sso.revokeToken(tokens.refreshToken!);
      expect((await failure(c.refresh(tokens.accessToken, tokens.refreshToken!))).code).toBe('refresh_rejected');
    },
  );

  it('refuses a code when the client secret is wrong (invalid_client is a refusal, not an outage)', async () => {
    const c = client(sso.url, { clientSecret: 'wrong-secret' });
    const err = await failure(c.exchangeCode(sso.approve({ redirectUri: REDIRECT_URI })));
    expect(err.code).toBe('code_rejected');
    expect(errorText(err)).not.toContain('wrong-secret');
  });

  it('asks for user_verify with userVerify, and sends token_issuer only when configured (iam_jwt: JWT, no refresh token)', async () => {
    const c = client(sso.url, { userVerify: true, tokenIssuer: 'iam_jwt' });
    const tokens = await c.exchangeCode(sso.approve({ redirectUri: REDIRECT_URI }));
    expect(tokens.tokenType).toBe('JWT');
    expect(tokens.refreshToken).toBeUndefined();
    expect((await c.checkToken(tokens.accessToken))!.user).toHaveProperty('user_verify');
  });

  it('without refresh token rotation keeps the old refresh token (none in the answer or the same one)', async () => {
    sso.setOptions({ rotateRefreshTokens: false });
    const c = client(sso.url);
    const tokens = await c.exchangeCode(sso.approve({ redirectUri: REDIRECT_URI }));
    const next = await c.refresh(tokens.accessToken, tokens.refreshToken!);
    expect(next.refreshToken === undefined || next.refreshToken === tokens.refreshToken).toBe(true);
    await c.refresh(next.accessToken, tokens.refreshToken!);
  });

  it('an SSO that is down is upstream_unavailable, fast', async () => {
    const c = client(sso.url);
    await sso.down();
    try {
      const started = Date.now();
      expect((await failure(c.checkToken('x'))).code).toBe('upstream_unavailable');
      expect(Date.now() - started).toBeLessThan(TIMEOUT);
    } finally {
      await sso.up();
    }
  });
});

describe('SsoClient against a raw HTTP server', () => {
  let raw: RawSso;
  let c: SsoClient;
  beforeAll(async () => {
    raw = await startRawSso();
    c = client(raw.url);
  });
  afterAll(() => raw.close());
  beforeEach(() => {
    raw.requests.length = 0;
  });
  const answer = (a: RawAnswer) => raw.respond(() => a);
  const json = (status: number, body: unknown, headers?: Record<string, string>): RawAnswer => ({
    kind: 'http',
    status,
    body: JSON.stringify(body),
    headers,
  });
  const TOKENS = { access_token: 'at-1', expires_in: 3600, token_type: 'Bearer', refresh_token: 'rt-1' };

  describe('requests as sent', () => {
    it('token: POST /sso/token/, form-encoded, code + redirect_uri + client credentials, no token_issuer by default', async () => {
      answer(json(200, TOKENS));
      await c.exchangeCode('the code');
      const [req] = raw.requests;
      expect(req).toMatchObject({ method: 'POST', path: '/sso/token/' });
      expect(req!.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(req!.headers.accept).toBe('application/json');
      expect(req!.headers.authorization).toBeUndefined();
      expect(Object.fromEntries(new URLSearchParams(req!.body))).toEqual({
        grant_type: 'authorization_code',
        code: 'the code',
        redirect_uri: REDIRECT_URI,
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      });
      answer(json(200, TOKENS));
      await client(raw.url, { tokenIssuer: 'iam' }).exchangeCode('c2');
      expect(new URLSearchParams(raw.requests[1]!.body).get('token_issuer')).toBe('iam');
    });

    it('check_token: the access token as Bearer, is_filter_user_verify only with userVerify', async () => {
      answer(json(200, { access_key: 'AK', secret_key: 'SK', token: 'a.b.c', user: { user_id: 'u' } }));
      await c.checkToken('at-1');
      await client(raw.url, { userVerify: true }).checkToken('at-2');
      expect(raw.requests.map((r) => [r.path, r.headers.authorization, r.body])).toEqual([
        ['/sso/check_token/', 'Bearer at-1', ''],
        ['/sso/check_token/', 'Bearer at-2', 'is_filter_user_verify=1'],
      ]);
    });

    it('refresh_token: the current access token as Bearer and only grant_type and refresh_token in the body', async () => {
      answer(json(200, TOKENS));
      await c.refresh('old-at', 'old-rt');
      const [req] = raw.requests;
      expect(req).toMatchObject({ method: 'POST', path: '/sso/refresh_token/' });
      expect(req!.headers.authorization).toBe('Bearer old-at');
      expect(Object.fromEntries(new URLSearchParams(req!.body))).toEqual({
        grant_type: 'refresh_token',
        refresh_token: 'old-rt',
      });
    });
  });

  describe('answers the emulator would not give', () => {
    it('reads ret_code 0 (number or string), a string expires_in, a null refresh_token and a missing token_type', async () => {
      answer(json(200, { ret_code: '0', access_token: 'at', expires_in: '120', refresh_token: null }));
      expect(await c.exchangeCode('x')).toEqual({
        accessToken: 'at',
        refreshToken: undefined,
        expiresIn: 120,
        tokenType: 'Bearer',
      });
    });

    it.each([
      ['a numeric user_id', { user_id: 42 }],
      ['an object user_id', { user_id: { toString: null } }],
      ['an empty user_id', { user_id: '' }],
      ['no user_id', { user_name: 'x' }],
      ['a non-string user_name', { user_id: 'u', user_name: ['x'] }],
      ['a non-string email', { user_id: 'u', email: 7 }],
      ['a non-string phone', { user_id: 'u', phone: {} }],
      ['a non-string lang', { user_id: 'u', lang: false }],
    ])('check_token with %s is a malformed answer (upstream_error, 502)', async (_name, user) => {
      answer(json(200, { access_key: 'AK', secret_key: 'SK', token: 'a.b.c', user }));
      const err = await failure(c.checkToken('at'));
      expect({ code: err.code, status: err.status }).toEqual({ code: 'upstream_error', status: 502 });
    });

    it('does not follow a redirect (a token request must not be replayed elsewhere)', async () => {
      answer({ kind: 'http', status: 307, body: '', headers: { location: `${raw.url}/sso/token/` } });
      expect((await failure(c.exchangeCode('x'))).code).toBe('upstream_error');
      expect(raw.requests).toHaveLength(1);
    });

    it.each([
      [408, 'upstream_timeout'],
      [504, 'upstream_timeout'],
      [429, 'upstream_unavailable'],
      [503, 'upstream_unavailable'],
      [500, 'upstream_error'],
    ])('HTTP %d with an HTML page is %s, even on refresh (the session must survive it)', async (status, code) => {
      answer({ kind: 'http', status, body: '<html>busy</html>', contentType: 'text/html' });
      expect((await failure(c.refresh('a', 'r'))).code).toBe(code);
    });

    it('a 4xx page (a proxy or WAF) is an upstream error, never a refusal: the session survives it', async () => {
      for (const status of [400, 401, 403, 404, 405]) {
        answer({ kind: 'http', status, body: '<html>nope</html>', contentType: 'text/html' });
        expect((await failure(c.checkToken('a'))).code).toBe('upstream_error');
        expect((await failure(c.refresh('a', 'r'))).code).toBe('upstream_error');
        expect((await failure(c.exchangeCode('x'))).code).toBe('upstream_error');
      }
    });

    it('a 401 whose WWW-Authenticate says error="invalid_token" is a refusal, whatever its body', async () => {
      answer({
        kind: 'http',
        status: 401,
        body: '',
        headers: { 'www-authenticate': 'Bearer realm="sso", error="invalid_token"' },
      });
      expect(await c.checkToken('a')).toBeUndefined();
      expect((await failure(c.refresh('a', 'r'))).code).toBe('refresh_rejected');
    });

    it('a reset is upstream_unavailable; an answer cut mid-body is an upstream failure', async () => {
      answer({ kind: 'reset' });
      expect((await failure(c.checkToken('a'))).code).toBe('upstream_unavailable');
      answer({ kind: 'cut', body: JSON.stringify(TOKENS) });
      expect((await failure(c.exchangeCode('x'))).code).toMatch(/^upstream_(error|unavailable)$/);
    });

    it.each([
      ['hangs', { kind: 'hang' }],
      ['sends headers then drips the body forever', { kind: 'drip', everyMs: 20 }],
    ] as const)('an SSO that %s times out within httpTimeout', async (_label, a) => {
      answer(a);
      const started = Date.now();
      expect((await failure(c.checkToken('a'))).code).toBe('upstream_timeout');
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT - 20);
      expect(elapsed).toBeLessThan(TIMEOUT + MARGIN);
    });

    it('an answer over the size limit is upstream_error, and a gzip bomb is not inflated into memory', async () => {
      answer({ kind: 'http', status: 200, body: JSON.stringify({ ...TOKENS, pad: 'x'.repeat(300 * 1024) }) });
      expect((await failure(c.exchangeCode('x'))).code).toBe('upstream_error');
      // 100 MB of zeros in about 100 KB.
      const bomb = gzipSync(Buffer.alloc(100 * 1024 * 1024));
      answer({ kind: 'http', status: 200, body: bomb, headers: { 'content-encoding': 'gzip' } });
      const before = process.memoryUsage().rss;
      const started = Date.now();
      expect((await failure(c.exchangeCode('x'))).code).toBe('upstream_error');
      expect(Date.now() - started).toBeLessThan(TIMEOUT + MARGIN);
      expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
      answer({
        kind: 'http',
        status: 200,
        body: Buffer.from('not gzip at all'),
        headers: { 'content-encoding': 'gzip' },
      });
      expect((await failure(c.exchangeCode('x'))).code).toBe('upstream_error');
    });

    it('gzip-encoded valid answers are read', async () => {
      answer({
        kind: 'http',
        status: 200,
        body: gzipSync(JSON.stringify(TOKENS)),
        headers: { 'content-encoding': 'gzip' },
      });
      expect((await c.exchangeCode('x')).accessToken).toBe('at-1');
    });

    it('an unreachable SSO is upstream_unavailable and its error carries no request config', async () => {
      const closed = await startRawSso();
      await closed.close();
      const err = await failure(client(closed.url).exchangeCode('the-code'));
      expect(err.code).toBe('upstream_unavailable');
      const text = errorText(err);
      for (const secret of [CLIENT_SECRET, 'the-code']) expect(text).not.toContain(secret);
      expect(Object.keys(err.cause as object).sort()).toEqual(['code']);
    });

    it('a token the app could not send back as a Bearer header is an upstream error at the exchange, not a session that never works', async () => {
      for (const accessToken of ['has space', 'new\nline', 'caf\u00e9', 'snow\u2603', 'nul\u0000x']) {
        answer(json(200, { ...TOKENS, access_token: accessToken }));
        expect((await failure(c.exchangeCode('x'))).code).toBe('upstream_error');
        expect((await failure(c.refresh('a', 'r'))).code).toBe('upstream_error');
      }
    });

    it('never sends a token that cannot travel unchanged in a header: it is simply not valid', async () => {
      raw.requests.length = 0;
      for (const token of ['a\nb', 'caf\u00e9', 'x\u2603', ' padded ', 'two words', '"quoted"', 'a!b', 'x=y'])
        expect(await c.checkToken(token)).toBeUndefined();
      expect(raw.requests).toHaveLength(0);
    });
  });

  describe.each(['token', 'check_token', 'refresh_token'] as const)(
    'any answer of %s (property)',
    (endpoint: JsonEndpoint) => {
      const call = (a: SsoAnswer) => {
        answer({ kind: 'http', status: a.status, body: a.body, contentType: a.contentType });
        if (endpoint === 'token') return c.exchangeCode('code-1');
        if (endpoint === 'check_token') return c.checkToken('at-1');
        return c.refresh('at-1', 'rt-1');
      };
      const refusalCode = endpoint === 'token' ? 'code_rejected' : 'refresh_rejected';

      it('maps to the documented outcome, only ever throws SsoGuardError, never reflects the body (1,000 runs)', async () => {
        await fc.assert(
          fc.asyncProperty(answerArb(endpoint), async (a) => {
            const want = expectedOutcome(endpoint, a);
            let got: unknown;
            let error: unknown;
            try {
              got = await call(a);
            } catch (err) {
              error = err;
            }
            if (error !== undefined) {
              expect(error).toBeInstanceOf(SsoGuardError);
              expect(errorText(error)).not.toContain(REFLECTION_MARK);
              const code = (error as SsoGuardError).code;
              expect(code).toBe(want === 'refusal' ? refusalCode : want);
              return;
            }
            if (endpoint === 'check_token' && got === undefined) {
              expect(want).toBe('refusal');
              return;
            }
            expect(want).toBe('success');
            const body = parsedBody(a);
            if (endpoint === 'check_token') {
              expect(got).toEqual({
                user: body.user,
                credentials: { accessKey: body.access_key, secretKey: body.secret_key, token: body.token },
              });
            } else {
              expect(got).toMatchObject({ accessToken: body.access_token, expiresIn: Number(body.expires_in) });
              expect((got as { refreshToken: unknown }).refreshToken).toBe(body.refresh_token ?? undefined);
            }
          }),
          { numRuns: 1000, seed: endpoint.length * 7919 },
        );
      }, 60_000);
    },
  );
});
