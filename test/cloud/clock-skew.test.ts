import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudClient, type CloudClientOptions } from '../../lib/cloud/client';
import type { SsoCredentials } from '../../lib/sso/types';
import { CloudClockSkew, MAX_CLOCK_SKEW_OFFSET_MS } from '../../lib/cloud/clock-skew';
import { CloudApiError } from '../../lib/errors';
import {
  createCloudApiHandler,
  type CloudApiEmulatorOptions,
  type EmulatedAccessKey,
} from '../../lib/emulator/cloud-api';

// The API refuses a time_stamp more than 60 s off (ret_code 1300). The client learns the offset
// from the answer's Date header, re-signs once, and keeps the offset for later calls once a
// second answer agreed.

const T = Date.parse('2024-03-01T12:00:00Z');
const jwt = (exp: number): string =>
  [{ alg: 'RS256' }, { exp }].map((p) => Buffer.from(JSON.stringify(p)).toString('base64url')).join('.') + '.c2ln';
const USER = { user_id: 'usr-1' };
const keys = new Map<string, EmulatedAccessKey>();
function issue(accessKey: string): SsoCredentials {
  const creds = { accessKey, secretKey: `sk-${accessKey}`, token: jwt(T / 1000 + 3600) };
  keys.set(accessKey, { secretKey: creds.secretKey, token: creds.token, expiresAt: T + 3_600_000, user: USER });
  return creds;
}

let apiNow = T;
let variant: Partial<CloudApiEmulatorOptions> = {};
/** time_stamp of every request the API received. */
let stamps: string[] = [];
let override: ((res: http.ServerResponse) => void) | undefined;
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      stamps.push(
        new URLSearchParams(req.method === 'POST' ? body : (req.url ?? '').split('?')[1]).get('time_stamp') ?? '',
      );
      if (override) return override(res);
      createCloudApiHandler({ lookupAccessKey: (k) => keys.get(k), clock: () => apiNow, ...variant })(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  apiNow = T;
  variant = {};
  stamps = [];
  override = undefined;
});

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function client(appNow: () => number, extra: Partial<CloudClientOptions> = {}): { c: CloudClient; calls: boolean[] } {
  const calls: boolean[] = [];
  const creds = issue('AK1');
  const c = new CloudClient({
    apiBaseUrl: base,
    clock: appNow,
    getCredentials: async ({ forceRefresh }) => (calls.push(forceRefresh), creds),
    ...extra,
  });
  return { c, calls };
}

function answer1300(date: string | undefined): (res: http.ServerResponse) => void {
  return (res) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (date !== undefined) headers.date = date;
    res.writeHead(200, headers);
    res.end(JSON.stringify({ ret_code: 1300, message: 'time_stamp is too far from server time' }));
  };
}

describe('the app clock 90 s ahead of the API', () => {
  test('the first call is refused with 1300, re-signed with the Date header time and succeeds; no credential refresh', async () => {
    const { c, calls } = client(() => T + 90_000);
    await expect(c.call('DescribeUsers')).resolves.toMatchObject({ ret_code: 0 });
    expect(stamps).toEqual([iso(T + 90_000), iso(T)]);
    expect(calls).toEqual([false]);
  });

  test('the offset is kept once seen twice: the next call is signed right the first time', async () => {
    const { c } = client(() => T + 90_000);
    await c.call('DescribeUsers');
    await c.call('DescribeUsers');
    await c.call('DescribeInstances');
    expect(stamps).toEqual([iso(T + 90_000), iso(T), iso(T + 90_000), iso(T), iso(T)]);
  });

  test('clients sharing one CloudClockSkew (one per auth() instance) share what was learned', async () => {
    const skew = new CloudClockSkew();
    await client(() => T + 90_000, { clockSkew: skew }).c.call('DescribeUsers');
    await client(() => T + 90_000, { clockSkew: skew }).c.call('DescribeUsers');
    expect(skew.offsetMs).toBe(-90_000);
    stamps = [];
    await client(() => T + 90_000, { clockSkew: skew }).c.call('DescribeUsers');
    expect(stamps).toEqual([iso(T)]);
  });

  test('the API host clock offset (emulator clockOffset) is learned the same way, POST too', async () => {
    variant = { clockOffset: -90_000 };
    const { c } = client(() => T);
    await expect(c.call('DescribeUsers', {}, { method: 'POST' })).resolves.toMatchObject({ ret_code: 0 });
    await expect(c.call('DescribeUsers')).resolves.toMatchObject({ ret_code: 0 });
    await expect(c.call('DescribeUsers')).resolves.toMatchObject({ ret_code: 0 });
    expect(stamps).toEqual([iso(T), iso(T - 90_000), iso(T), iso(T - 90_000), iso(T - 90_000)]);
  });

  test('the offset is re-learned on the next 1300 (the API clock moved)', async () => {
    const { c } = client(() => T + 90_000);
    await c.call('DescribeUsers');
    await c.call('DescribeUsers');
    apiNow = T + 300_000;
    stamps = [];
    await expect(c.call('DescribeUsers')).resolves.toMatchObject({ ret_code: 0 });
    await expect(c.call('DescribeUsers')).resolves.toMatchObject({ ret_code: 0 });
    await expect(c.call('DescribeUsers')).resolves.toMatchObject({ ret_code: 0 });
    expect(stamps).toEqual([iso(T), iso(T + 300_000), iso(T), iso(T + 300_000), iso(T + 300_000)]);
  });
});

test('a call signed before a concurrent call learned the offset still retries (it compares with the offset it used)', async () => {
  const skew = new CloudClockSkew();
  const { c } = client(() => T + 90_000, { clockSkew: skew });
  let first = true;
  override = (res) => {
    if (first) {
      first = false;
      // Other requests' 1300s taught the shared skew the offset while this one was in flight.
      expect(skew.learn(new Date(T).toUTCString(), T + 90_000)).toBe(-90_000);
      expect(skew.learn(new Date(T).toUTCString(), T + 90_000)).toBe(-90_000);
      answer1300(new Date(T).toUTCString())(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ret_code: 0 }));
  };
  await expect(c.call('DescribeUsers')).resolves.toMatchObject({ ret_code: 0 });
  expect(stamps).toEqual([iso(T + 90_000), iso(T)]);
  expect(skew.offsetMs).toBe(-90_000);
});

describe('when the Date header cannot help, the 1300 is a CloudApiError after one request', () => {
  test.each([
    ['no Date header', undefined],
    ['an unparseable Date', 'yesterday'],
    ['a non-IMF date', '2024-03-01T12:00:00Z'],
    [
      `a Date more than ${MAX_CLOCK_SKEW_OFFSET_MS / 3_600_000} h away`,
      new Date(T - MAX_CLOCK_SKEW_OFFSET_MS - 1000).toUTCString(),
    ],
    ['a Date that agrees with the app clock (re-signing would not help)', new Date(T).toUTCString()],
  ])('%s', async (_name, date) => {
    override = answer1300(date);
    const skew = new CloudClockSkew();
    const { c } = client(() => T, { clockSkew: skew });
    await expect(c.call('DescribeUsers')).rejects.toMatchObject({
      code: 'cloud_api_error',
      retCode: 1300,
      httpStatus: 200,
    });
    expect(stamps).toHaveLength(1);
    expect(skew.offsetMs).toBe(0);
  });

  test('a second 1300 after the re-signed retry: no third request', async () => {
    let n = 0;
    override = (res) => answer1300(new Date(T - 90_000 - 120_000 * n++).toUTCString())(res);
    const { c } = client(() => T);
    const err = (await c.call('DescribeUsers').catch((e: unknown) => e)) as CloudApiError;
    expect(err).toBeInstanceOf(CloudApiError);
    expect(err).toMatchObject({ retCode: 1300 });
    expect(stamps).toEqual([iso(T), iso(T - 90_000)]);
  });

  test('an offset of exactly the bound is accepted', async () => {
    override = answer1300(new Date(T + MAX_CLOCK_SKEW_OFFSET_MS).toUTCString());
    const skew = new CloudClockSkew();
    const { c } = client(() => T, { clockSkew: skew });
    await expect(c.call('DescribeUsers')).rejects.toMatchObject({ retCode: 1300 });
    expect(stamps).toEqual([iso(T), iso(T + MAX_CLOCK_SKEW_OFFSET_MS)]);
    expect(skew.offsetMs).toBe(0); // seen once: the failing call only
  });
});

test('refuses a clockSkew that is not a CloudClockSkew', () => {
  expect(() => client(() => T, { clockSkew: { offsetMs: 5 } as unknown as CloudClockSkew })).toThrow(
    /"cloud.clockSkew" must be a CloudClockSkew/,
  );
});

describe('one answer cannot move the shared clock (issue 20)', () => {
  test(`a 1300 whose Date is 23 h ahead is not trusted (the bound is ${MAX_CLOCK_SKEW_OFFSET_MS / 60_000} min)`, async () => {
    expect(MAX_CLOCK_SKEW_OFFSET_MS).toBe(15 * 60_000);
    override = answer1300(new Date(T + 23 * 3_600_000).toUTCString());
    const skew = new CloudClockSkew();
    const { c } = client(() => T, { clockSkew: skew });
    await expect(c.call('DescribeUsers')).rejects.toMatchObject({ retCode: 1300 });
    expect(stamps).toHaveLength(1);
    expect(skew.offsetMs).toBe(0);
  });

  test('a single 1300 re-signs the failing call only; the shared offset moves once a second answer agrees', async () => {
    const skew = new CloudClockSkew();
    const { c } = client(() => T + 90_000, { clockSkew: skew });
    await expect(c.call('DescribeUsers')).resolves.toMatchObject({ ret_code: 0 });
    expect(stamps).toEqual([iso(T + 90_000), iso(T)]);
    expect(skew.offsetMs).toBe(0);
    await expect(c.call('DescribeUsers')).resolves.toMatchObject({ ret_code: 0 });
    expect(skew.offsetMs).toBe(-90_000);
    stamps = [];
    await c.call('DescribeUsers');
    expect(stamps).toEqual([iso(T)]);
  });

  test('two answers that disagree move nothing', async () => {
    const skew = new CloudClockSkew();
    expect(skew.learn(new Date(T + 300_000).toUTCString(), T)).toBe(300_000);
    expect(skew.learn(new Date(T - 300_000).toUTCString(), T)).toBe(-300_000);
    expect(skew.offsetMs).toBe(0);
  });
});
