import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect, format } from 'node:util';
import createDebug from 'debug';
import { CloudClient, type CloudClientOptions } from '../../lib/cloud/client';
import type { SsoCredentials } from '../../lib/sso/types';
import { CloudApiError, SsoGuardError } from '../../lib/errors';
import { createCloudApiHandler, type EmulatedAccessKey } from '../../lib/emulator/cloud-api';

const T = Date.parse('2024-03-01T12:00:00Z');
const jwt = (expSeconds: number): string =>
  [{ alg: 'RS256' }, { sub: 'sts', exp: expSeconds }]
    .map((p) => Buffer.from(JSON.stringify(p)).toString('base64url'))
    .join('.') + '.c2ln';
const USER = { user_id: 'usr-1', user_name: 'alice' };

const keys = new Map<string, EmulatedAccessKey>();
/** Issues credentials the emulator knows; `live: false` makes the API answer 401 for them. */
function issue(accessKey: string, o: { jwtExp?: number; live?: boolean; token?: string } = {}): SsoCredentials {
  const token = o.token ?? jwt(o.jwtExp ?? T / 1000 + 3600);
  const secretKey = `secret-${accessKey}-${'s'.repeat(20)}`;
  keys.set(accessKey, { secretKey, token, expiresAt: o.live === false ? T - 1 : T + 3_600_000, user: USER });
  return { accessKey, secretKey, token };
}

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  params: URLSearchParams;
}
let seen: Seen[] = [];
let serverNow = T;
let server: http.Server;
let base: string;
/** Replaces the emulator for one test, e.g. to hang or to answer garbage. */
let override: ((req: http.IncomingMessage, res: http.ServerResponse, body: string) => void) | undefined;

const emulator = createCloudApiHandler({ lookupAccessKey: (k) => keys.get(k), clock: () => serverNow });

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = req.url ?? '/';
      seen.push({
        method: req.method ?? '',
        url,
        contentType: req.headers['content-type'],
        params: new URLSearchParams(req.method === 'POST' ? body : url.split('?')[1]),
      });
      if (override) override(req, res, body);
      else emulator(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Every error a test saw; checked at the end for leaked secrets. */
const errors: unknown[] = [];
const logs: string[] = [];
beforeAll(() => {
  createDebug.enable('express-sso-guard:cloud');
  createDebug.log = (...args: unknown[]) => logs.push(format(...args));
});
// Every signature the server received, kept across tests (the per-test `seen` is reset).
const allSignatures: string[] = [];
afterEach(() => {
  for (const s of seen) {
    const sig = s.params.get('signature');
    if (sig) allSignatures.push(sig);
  }
});
beforeEach(() => {
  seen = [];
  serverNow = T;
  override = undefined;
});

/** A client whose getCredentials hands out `sequence` in order (the last one repeats) and records calls. */
function client(sequence: SsoCredentials[], extra: Partial<CloudClientOptions> = {}) {
  const calls: boolean[] = [];
  const c = new CloudClient({
    apiBaseUrl: base,
    clock: () => T,
    getCredentials: async ({ forceRefresh }) => {
      calls.push(forceRefresh);
      return sequence[Math.min(calls.length - 1, sequence.length - 1)] as SsoCredentials;
    },
    ...extra,
  });
  return { c, calls };
}

async function failure(p: Promise<unknown>): Promise<SsoGuardError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SsoGuardError);
  errors.push(err);
  return err as SsoGuardError;
}

describe('calls', () => {
  test('GET sends the signed query on /iam/ and resolves with the answer', async () => {
    const { c, calls } = client([issue('AK1')]);
    await expect(c.call('DescribeUsers')).resolves.toEqual({
      ret_code: 0,
      action: 'DescribeUsersResponse',
      user_set: [USER],
      total_count: 1,
    });
    expect(calls).toEqual([false]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'GET', contentType: undefined });
    expect(seen[0]?.url.startsWith('/iam/?access_key_id=AK1&action=DescribeUsers&')).toBe(true);
    expect(seen[0]?.params.get('signature_version')).toBe('2');
  });

  test('POST sends the same string as a form body', async () => {
    const { c } = client([issue('AK1')]);
    const r = await c.call<{ total_count: number }>('DescribeInstances', { status: ['running'] }, { method: 'POST' });
    expect(r.total_count).toBe(2);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/iam/', contentType: 'application/x-www-form-urlencoded' });
    expect(seen[0]?.params.get('status.1')).toBe('running');
  });

  test('the default zone is added unless the call gives one; signatureVersion 1 is an option', async () => {
    const { c } = client([issue('AK1')], { zone: 'pek3', signatureVersion: 1 });
    expect(await c.call('DescribeInstances')).toMatchObject({ total_count: 2 });
    expect(await c.call('DescribeInstances', { zone: 'sh1a' })).toMatchObject({ total_count: 1 });
    expect(seen.map((s) => [s.params.get('zone'), s.params.get('signature_version')])).toEqual([
      ['pek3', '1'],
      ['sh1a', '1'],
    ]);
  });

  test('an unknown action is a CloudApiError with ret_code 1400', async () => {
    const { c } = client([issue('AK1')]);
    const err = await failure(c.call('RunInstances'));
    expect(err).toBeInstanceOf(CloudApiError);
    expect(err).toMatchObject({
      code: 'cloud_api_error',
      retCode: 1400,
      httpStatus: 200,
      message: 'RunInstances failed: ret_code 1400: permission denied',
    });
  });

  test('a wrong token is refused with 1200', async () => {
    const good = issue('AK1');
    const { c } = client([{ ...good, token: jwt(T / 1000 + 7200) }]);
    expect(await failure(c.call('DescribeUsers'))).toMatchObject({ retCode: 1200 });
  });

  test.each([
    [59_000, 1],
    [-59_000, 1],
    [61_000, 2],
    [-61_000, 2],
  ])('a client clock %d ms off the API succeeds with %d request(s)', async (skew, requests) => {
    const { c, calls } = client([issue('AK1')], { clock: () => T + skew });
    await expect(c.call('DescribeUsers')).resolves.toMatchObject({ ret_code: 0 });
    expect(seen).toHaveLength(requests);
    expect(calls).toEqual([false]);
  });
});

describe('credentials', () => {
  test('a token whose exp has passed is refreshed before the call', async () => {
    const { c, calls } = client([issue('OLD', { jwtExp: T / 1000 - 10, live: false }), issue('NEW')]);
    await expect(c.call('DescribeUsers')).resolves.toMatchObject({ ret_code: 0 });
    expect(calls).toEqual([false, true]);
    expect(seen.map((s) => s.params.get('access_key_id'))).toEqual(['NEW']);
  });

  test.each([
    [30, [false, true]],
    [31, [false]],
  ])('a token expiring in %d s: getCredentials calls %j', async (left, want) => {
    const { c, calls } = client([issue('SOON', { jwtExp: T / 1000 + left }), issue('NEW')]);
    await c.call('DescribeUsers');
    expect(calls).toEqual(want);
  });

  test('a token that is not a readable JWT is treated as not expired', async () => {
    for (const token of [
      'opaque-token',
      'a.%%%.c',
      `a.${Buffer.from('null').toString('base64url')}.c`,
      `a.${Buffer.from('{"exp":"soon"}').toString('base64url')}.c`,
    ]) {
      const { c, calls } = client([issue('OPAQUE', { token })]);
      await expect(c.call('DescribeUsers')).resolves.toMatchObject({ ret_code: 0 });
      expect(calls).toEqual([false]);
    }
  });

  test('an HTTP 401 refreshes once and retries', async () => {
    // The JWT claims an hour left but the API already considers it expired (e.g. revoked).
    const { c, calls } = client([issue('REVOKED', { live: false }), issue('NEW')]);
    await expect(c.call('DescribeUsers', {}, { method: 'POST' })).resolves.toMatchObject({ ret_code: 0 });
    expect(calls).toEqual([false, true]);
    expect(seen.map((s) => s.params.get('access_key_id'))).toEqual(['REVOKED', 'NEW']);
  });

  test('a second 401 is a CloudApiError, without a third attempt', async () => {
    const { c, calls } = client([issue('R1', { live: false }), issue('R2', { live: false })]);
    const err = await failure(c.call('DescribeUsers'));
    expect(err).toBeInstanceOf(CloudApiError);
    expect(err).toMatchObject({
      httpStatus: 401,
      retCode: 1200,
      message: 'DescribeUsers failed: ret_code 1200: token expired',
    });
    expect(calls).toEqual([false, true]);
    expect(seen).toHaveLength(2);
  });

  describe.each([1200, 2000] as const)(
    'ret_code %d in an HTTP 200 (credentials refused) is handled like HTTP 401',
    (retCode) => {
      const variant = createCloudApiHandler({
        lookupAccessKey: (k) => keys.get(k),
        clock: () => serverNow,
        expiredToken: retCode,
      });
      beforeEach(() => {
        override = (req, res, body) => variant(req, res, body);
      });

      test('fresh credentials, one retry, success', async () => {
        const { c, calls } = client([issue('STALE', { live: false }), issue('NEW')]);
        await expect(c.call('DescribeUsers')).resolves.toMatchObject({ ret_code: 0 });
        expect(calls).toEqual([false, true]);
        expect(seen.map((s) => s.params.get('access_key_id'))).toEqual(['STALE', 'NEW']);
      });

      test('refused again: a CloudApiError with that ret_code, no third attempt', async () => {
        const { c, calls } = client([issue('S1', { live: false }), issue('S2', { live: false })]);
        const err = await failure(c.call('DescribeUsers', {}, { method: 'POST' }));
        expect(err).toBeInstanceOf(CloudApiError);
        expect(err).toMatchObject({
          retCode,
          httpStatus: 200,
          message: `DescribeUsers failed: ret_code ${retCode}: ${retCode === 2000 ? 'session expired' : 'token expired'}`,
        });
        expect(calls).toEqual([false, true]);
        expect(seen).toHaveLength(2);
      });

      test('as a string ret_code too', async () => {
        override = (_req, res) => res.end(JSON.stringify({ ret_code: String(retCode), message: 'refused' }));
        const { c, calls } = client([issue('AK1')]);
        expect(await failure(c.call('DescribeUsers'))).toMatchObject({ retCode });
        expect(calls).toEqual([false, true]);
        expect(seen).toHaveLength(2);
      });
    },
  );

  test('other ret_codes (1100, 1400, 5000) are not retried', async () => {
    for (const retCode of [1100, 1400, 5000]) {
      seen = [];
      override = (_req, res) => res.end(JSON.stringify({ ret_code: retCode, message: 'no' }));
      const { c, calls } = client([issue('AK1')]);
      expect(await failure(c.call('DescribeUsers'))).toMatchObject({ retCode });
      expect([calls, seen.length]).toEqual([[false], 1]);
    }
  });

  test('a session expiry and a 1300 on one call: one retry with fresh credentials and one re-signed', async () => {
    const variant = createCloudApiHandler({
      lookupAccessKey: (k) => keys.get(k),
      clock: () => serverNow,
      expiredToken: 2000,
    });
    override = (req, res, body) => variant(req, res, body);
    const { c, calls } = client([issue('STALE', { live: false }), issue('NEW')], { clock: () => T + 90_000 });
    await expect(c.call('DescribeUsers')).resolves.toMatchObject({ ret_code: 0 });
    expect(calls).toEqual([false, true]);
    expect(seen.map((s) => [s.params.get('access_key_id'), s.params.get('time_stamp')])).toEqual([
      ['STALE', '2024-03-01T12:01:30Z'], // 2000: the emulator checks expiry before time_stamp
      ['NEW', '2024-03-01T12:01:30Z'], // 1300
      ['NEW', '2024-03-01T12:00:00Z'],
    ]);
  });

  test('incomplete credentials are an upstream_error', async () => {
    const { c } = client([{ accessKey: 'AK', secretKey: '', token: 't' }]);
    expect(await failure(c.call('DescribeUsers'))).toMatchObject({ code: 'upstream_error' });
  });
});

describe('upstream failures', () => {
  test('no answer within the timeout is upstream_timeout', async () => {
    override = () => undefined; // never answers
    const { c } = client([issue('AK1')], { timeout: 150 });
    expect(await failure(c.call('DescribeUsers'))).toMatchObject({ code: 'upstream_timeout', status: 504 });
  });

  test('a closed port is upstream_unavailable', async () => {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const { c } = client([issue('AK1')], { apiBaseUrl: `http://127.0.0.1:${port}` });
    expect(await failure(c.call('DescribeUsers'))).toMatchObject({ code: 'upstream_unavailable' });
  });

  test('a non-JSON answer is upstream_error; an error status without ret_code is a CloudApiError', async () => {
    override = (_req, res) => res.end('<html>gateway</html>');
    const { c } = client([issue('AK1')]);
    expect(await failure(c.call('DescribeUsers'))).toMatchObject({ code: 'upstream_error', status: 502 });
    override = (_req, res) => {
      res.statusCode = 503;
      res.end('{"message":"busy"}');
    };
    expect(await failure(c.call('DescribeUsers'))).toMatchObject({
      code: 'cloud_api_error',
      httpStatus: 503,
      message: 'DescribeUsers failed: HTTP 503',
    });
  });

  test('the API message is trimmed, flattened to one line and never echoes the token', async () => {
    const creds = issue('AK1');
    override = (_req, res) =>
      res.end(JSON.stringify({ ret_code: 1100, message: `bad token ${creds.token}\nand ${'x'.repeat(400)}` }));
    const { c } = client([creds]);
    const err = await failure(c.call('DescribeUsers'));
    expect(err.message).toMatch(/^DescribeUsers failed: ret_code 1100: bad token \[redacted\] and x+…$/);
    expect(err.message.length).toBeLessThanOrEqual('DescribeUsers failed: ret_code 1100: '.length + 201);
  });
});

describe('options', () => {
  const ok: CloudClientOptions = {
    apiBaseUrl: 'https://api.qingcloud.com',
    getCredentials: async () => ({ accessKey: 'a', secretKey: 'b', token: 'c' }),
  };
  test.each<[Record<string, unknown>, RegExp]>([
    [
      { apiBaseUrl: 'ftp://api.example.com' },
      /^"cloud.apiBaseUrl" must be an http\(s\) URL; received "ftp:\/\/api.example.com"$/,
    ],
    [{ apiBaseUrl: 42 }, /"cloud.apiBaseUrl" must be an http\(s\) URL; received 42/],
    [{ apiBaseUrl: 'https://api.qingcloud.com/iam/' }, /"cloud.apiBaseUrl" must be an origin/],
    [{ getCredentials: 'x' }, /"cloud.getCredentials" must be a function/],
    [{ timeout: -5 }, /"cloud.timeout" must be a positive integer of milliseconds; received -5/],
    [{ signatureVersion: 3 }, /"cloud.signatureVersion" must be 1 or 2; received 3/],
    [{ zone: 'pek 3' }, /"cloud.zone" must be a zone id/],
    [{ http: {} }, /"cloud.http" must be an axios instance; received an object/],
    [{ clock: 1 }, /"cloud.clock" must be a function/],
    [{ timeOut: 5 }, /^Unknown option "cloud.timeOut". Did you mean "cloud.timeout"\?$/],
  ])('refuses %j', (bad, message) => {
    expect(() => new CloudClient({ ...ok, ...bad } as CloudClientOptions)).toThrow(
      expect.objectContaining({ code: 'invalid_option', message: expect.stringMatching(message) }),
    );
  });

  test('never echoes credentials in the URL', () => {
    expect(() => new CloudClient({ ...ok, apiBaseUrl: 'https://user:hunter2@api.qingcloud.com' })).toThrow(
      expect.objectContaining({ code: 'invalid_option', message: expect.not.stringContaining('hunter2') }),
    );
  });

  test('refuses a bad action name, method, or an action inside params', async () => {
    const c = new CloudClient(ok);
    await expect(c.call('Describe Users\n')).rejects.toMatchObject({ code: 'invalid_option' });
    await expect(c.call('DescribeUsers', {}, { method: 'PUT' as 'GET' })).rejects.toMatchObject({
      code: 'invalid_option',
    });
    await expect(c.call('DescribeUsers', { action: 'RunInstances' })).rejects.toMatchObject({ code: 'invalid_option' });
  });
});

test('no error, cause or log line holds a secret key, token or signature', () => {
  const secrets = [...keys.values()].flatMap((k) => [k.secretKey, k.token]);
  expect(errors.length).toBeGreaterThan(10);
  expect(allSignatures.length).toBeGreaterThan(10);
  expect(logs.some((l) => l.includes('DescribeUsers'))).toBe(true);
  const texts = [...errors.map((e) => inspect(e, { depth: Infinity, showHidden: true })), ...logs];
  const leaks = texts.flatMap((text) =>
    [...secrets, ...allSignatures].filter((s) => text.includes(s) || text.includes(encodeURIComponent(s))),
  );
  expect(leaks).toEqual([]);
});
