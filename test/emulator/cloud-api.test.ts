import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { computeSignature, formatTimestamp, percentEncode, signRequest } from '../../lib/cloud/signer';
import {
  createCloudApiHandler,
  expectedSignature,
  expectedStringToSign,
  type CloudApiEmulatorOptions,
  type EmulatedAccessKey,
} from '../../lib/emulator/cloud-api';

const T = Date.parse('2024-03-01T12:00:00Z');
const jwt = (exp: number): string =>
  [{ alg: 'RS256' }, { sub: 'sts', exp }].map((p) => Buffer.from(JSON.stringify(p)).toString('base64url')).join('.') +
  '.c2ln';
const TOKEN = jwt(T / 1000 + 3600);
const CREDS = { accessKey: 'AKTEST', secretKey: 'SKTEST-secret', token: TOKEN };
const USER = { user_id: 'usr-1', user_name: 'alice' };

const keys = new Map<string, EmulatedAccessKey>([
  ['AKTEST', { secretKey: CREDS.secretKey, token: TOKEN, expiresAt: T + 3_600_000, user: USER }],
  ['AKEXPIRED', { secretKey: 'SKX', token: 'TX', expiresAt: T, user: USER }],
]);

interface Api {
  url: string;
  close(): Promise<void>;
}
let api: Api;
let now = T;
const agent = new http.Agent({ keepAlive: true });

async function start(opts: Partial<CloudApiEmulatorOptions> = {}): Promise<Api> {
  const handler = createCloudApiHandler({ lookupAccessKey: (k) => keys.get(k), clock: () => now, ...opts });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

function raw(
  method: string,
  target: string,
  body?: string,
  contentType = 'application/x-www-form-urlencoded',
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers =
      body === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(body) };
    const req = http.request(`${api.url}${target}`, { method, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Signs and sends like a client would. */
function call(
  params: Record<string, unknown>,
  o: { method?: 'GET' | 'POST'; path?: string; at?: number; creds?: typeof CREDS; signatureVersion?: 1 | 2 } = {},
): Promise<Reply> {
  const s = signRequest(o.creds ?? CREDS, {
    method: o.method,
    path: o.path ?? '/iam/',
    params,
    now: o.at ?? now,
    signatureVersion: o.signatureVersion,
  });
  return s.method === 'GET' ? raw('GET', `${s.path}?${s.query}`) : raw('POST', s.path, s.query);
}

beforeAll(async () => {
  api = await start();
});
afterAll(async () => {
  await api.close();
  agent.destroy();
});
beforeEach(() => {
  now = T;
});

describe('actions', () => {
  test("DescribeUsers answers the key's user (GET and POST)", async () => {
    for (const method of ['GET', 'POST'] as const) {
      const r = await call({ action: 'DescribeUsers' }, { method });
      expect(r).toEqual({
        status: 200,
        body: { ret_code: 0, action: 'DescribeUsersResponse', user_set: [USER], total_count: 1 },
      });
    }
  });

  test('DescribeInstances returns the demo instances and honours status.N and zone', async () => {
    const all = await call({ action: 'DescribeInstances' });
    expect(all.body).toMatchObject({ ret_code: 0, action: 'DescribeInstancesResponse', total_count: 3 });
    const running = await call({ action: 'DescribeInstances', status: ['running'] }, { method: 'POST' });
    expect((running.body.instance_set as Array<{ status: string }>).map((i) => i.status)).toEqual([
      'running',
      'running',
    ]);
    const both = await call({ action: 'DescribeInstances', status: ['running', 'stopped'], zone: 'pek3' });
    expect(both.body).toMatchObject({
      total_count: 2,
      instance_set: [{ instance_id: 'i-demo0001' }, { instance_id: 'i-demo0002' }],
    });
  });

  test('a fixed instance list can be given', async () => {
    const custom = await start({ instances: [{ instance_id: 'i-x', status: 'running', zone: 'gd2' }] });
    const saved = api;
    api = custom;
    try {
      expect((await call({ action: 'DescribeInstances' })).body).toMatchObject({
        total_count: 1,
        instance_set: [{ instance_id: 'i-x' }],
      });
    } finally {
      api = saved;
      await custom.close();
    }
  });

  test('any other action is denied with 1400', async () => {
    expect((await call({ action: 'RunInstances' })).body).toEqual({ ret_code: 1400, message: 'permission denied' });
  });
});

describe('authentication', () => {
  test('signature_version 1 and 2 are both accepted', async () => {
    expect((await call({ action: 'DescribeUsers' }, { signatureVersion: 1 })).body.ret_code).toBe(0);
    expect((await call({ action: 'DescribeUsers' }, { signatureVersion: 2 })).body.ret_code).toBe(0);
  });

  test('an unknown key, a wrong token, a missing signature answer 1200', async () => {
    expect((await call({ action: 'DescribeUsers' }, { creds: { ...CREDS, accessKey: 'NOPE' } })).body).toMatchObject({
      ret_code: 1200,
    });
    expect(
      (await call({ action: 'DescribeUsers' }, { creds: { ...CREDS, token: jwt(T / 1000 + 3600) + 'x' } })).body,
    ).toMatchObject({ ret_code: 1200, message: 'invalid token' });
    const s = signRequest(CREDS, { path: '/iam/', params: { action: 'DescribeUsers' }, now });
    expect((await raw('GET', `/iam/?${s.query.replace(/&signature=.*$/, '')}`)).body).toMatchObject({ ret_code: 1200 });
  });

  test('a correctly signed but unsupported signature_version answers 1200', async () => {
    const p = {
      ...signRequest(CREDS, { path: '/iam/', params: { action: 'DescribeUsers' }, now }).params,
      signature_version: '3',
    };
    const query = Object.entries(p)
      .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
      .join('&');
    const sig = computeSignature(CREDS.secretKey, 'GET', '/iam/', p);
    expect((await raw('GET', `/iam/?${query}&signature=${percentEncode(sig)}`)).body).toMatchObject({ ret_code: 1200 });
  });

  test('an expired STS token answers HTTP 401', async () => {
    const r = await call(
      { action: 'DescribeUsers' },
      { creds: { accessKey: 'AKEXPIRED', secretKey: 'SKX', token: 'TX' } },
    );
    expect(r).toEqual({ status: 401, body: { ret_code: 1200, message: 'token expired' } });
  });

  test.each([
    [60_000, 0],
    [-60_000, 0],
    [61_000, 1300],
    [-61_000, 1300],
  ])('time_stamp %d ms off answers ret_code %d', async (skew, code) => {
    expect((await call({ action: 'DescribeUsers' }, { at: T + skew })).body.ret_code).toBe(code);
  });

  test('a malformed time_stamp answers 1300 even when signed', async () => {
    for (const ts of ['2024-03-01T12:00:00.000Z', '2024-03-01 12:00:00Z', '2024-02-31T12:00:00Z']) {
      const p = {
        ...signRequest(CREDS, { path: '/iam/', params: { action: 'DescribeUsers' }, now }).params,
        time_stamp: ts,
      };
      const sig = expectedSignature(CREDS.secretKey, 'GET', '/iam/', p);
      const query = new URLSearchParams({ ...p, signature: sig }).toString();
      expect((await raw('GET', `/iam/?${query}`)).body).toMatchObject({ ret_code: 1300 });
    }
  });

  test('the path is signed as received: /iam works when signed as /iam, not with a /iam/ signature', async () => {
    expect((await call({ action: 'DescribeUsers' }, { path: '/iam' })).body.ret_code).toBe(0);
    const s = signRequest(CREDS, { path: '/iam/', params: { action: 'DescribeUsers' }, now });
    expect((await raw('GET', `/iam?${s.query}`)).body.ret_code).toBe(1200);
  });
});

/** Replaces one character with a different one of the same kind, so the request stays parseable. */
function alter(c: string): string {
  if (/[0-8]/.test(c)) return String(Number(c) + 1);
  if (c === '9') return '0';
  if (/[a-yA-Y]/.test(c)) return String.fromCharCode(c.charCodeAt(0) + 1);
  if (c === 'z' || c === 'Z') return c === 'z' ? 'a' : 'A';
  return 'x';
}

/** ret_code expected for a stale-signature request whose parameter `name` (or its name) was altered. */
function expectedCode(name: string, inName: boolean, mutatedValue: string): number {
  if (name !== 'time_stamp') return 1200;
  if (inName) return 1300; // time_stamp is now missing
  const ms = Date.parse(mutatedValue);
  const valid =
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(mutatedValue) &&
    !Number.isNaN(ms) &&
    formatTimestamp(ms) === mutatedValue;
  return valid && Math.abs(ms - now) <= 60_000 ? 1200 : 1300;
}

describe.each(['GET', 'POST'] as const)('every single-byte change of a signed %s is refused', (method) => {
  const signed = signRequest(CREDS, {
    method,
    params: { action: 'DescribeInstances', status: ['running'], zone: 'pek3' },
    now: T,
  });

  test('the request itself is accepted', async () => {
    const r = method === 'GET' ? await raw('GET', `/iam/?${signed.query}`) : await raw('POST', '/iam/', signed.query);
    expect(r.body.ret_code).toBe(0);
  });

  test('each byte of each parameter name and value, sent with the stale signature', async () => {
    const pairs = signed.query.split('&');
    const outcomes: string[] = [];
    for (let p = 0; p < pairs.length; p++) {
      const pair = pairs[p] as string;
      const eq = pair.indexOf('=');
      const name = decodeURIComponent(pair.slice(0, eq));
      for (let i = 0; i < pair.length; i++) {
        if (i === eq) continue;
        const changed = pair.slice(0, i) + alter(pair[i] as string) + pair.slice(i + 1);
        const query = [...pairs.slice(0, p), changed, ...pairs.slice(p + 1)].join('&');
        const r = method === 'GET' ? await raw('GET', `/iam/?${query}`) : await raw('POST', '/iam/', query);
        const value = new URLSearchParams(changed).values().next().value ?? '';
        const want = expectedCode(name, i < eq, value);
        if (r.body.ret_code !== want) outcomes.push(`${changed}: ${String(r.body.ret_code)} (want ${want})`);
      }
    }
    expect(outcomes).toEqual([]);
  });

  test('each byte of the path after its leading slash', async () => {
    // Position 0 is the "/" every HTTP origin-form target starts with; it cannot change.
    for (let i = 1; i < signed.path.length; i++) {
      const path = signed.path.slice(0, i) + alter(signed.path[i] as string) + signed.path.slice(i + 1);
      const r = method === 'GET' ? await raw('GET', `${path}?${signed.query}`) : await raw('POST', path, signed.query);
      expect([path, r.body.ret_code]).toEqual([path, 1200]);
    }
  });
});

describe('request shape', () => {
  test('POST needs the form content type and no query string', async () => {
    const s = signRequest(CREDS, { method: 'POST', params: { action: 'DescribeUsers' }, now });
    expect((await raw('POST', '/iam/', s.query, 'application/json')).body).toMatchObject({ ret_code: 1100 });
    expect((await raw('POST', '/iam/?x=1', s.query)).body).toMatchObject({ ret_code: 1100 });
    expect(
      (await raw('POST', '/iam/', s.query, 'application/x-www-form-urlencoded; charset=utf-8')).body,
    ).toMatchObject({ ret_code: 0 });
  });

  test('other methods answer 405; a repeated parameter answers 1100', async () => {
    expect((await raw('PUT', '/iam/')).status).toBe(405);
    const s = signRequest(CREDS, { params: { action: 'DescribeUsers' }, now });
    expect((await raw('GET', `/iam/?${s.query}&action=DescribeUsers`)).body).toMatchObject({ ret_code: 1100 });
  });

  test('a throwing lookup answers 500 with ret_code 5000', async () => {
    const broken = await start({
      lookupAccessKey: () => {
        throw new Error('boom');
      },
    });
    const saved = api;
    api = broken;
    try {
      expect(await call({ action: 'DescribeUsers' })).toEqual({
        status: 500,
        body: { ret_code: 5000, message: 'internal error' },
      });
    } finally {
      api = saved;
      await broken.close();
    }
  });
});

test('expectedStringToSign and expectedSignature ignore the signature parameter', () => {
  const s = signRequest(CREDS, { params: { action: 'DescribeUsers' }, now: T });
  const received = { ...s.params, signature: s.signature };
  expect(expectedStringToSign('GET', '/iam/', received)).toBe(`GET\n/iam/\n${s.query.replace(/&signature=.*$/, '')}`);
  expect(expectedSignature(CREDS.secretKey, 'GET', '/iam/', received)).toBe(s.signature);
});

describe('variants: the API host clock, expired-token answers', () => {
  /** Runs `fn` against a handler started with `opts`, then closes it. */
  async function withApi(opts: Partial<CloudApiEmulatorOptions>, fn: () => Promise<void>): Promise<void> {
    const variant = await start(opts);
    const saved = api;
    api = variant;
    try {
      await fn();
    } finally {
      api = saved;
      await variant.close();
    }
  }

  /** GET with the answer's Date header. */
  function callWithDate(at: number): Promise<{ body: Record<string, unknown>; date: string | undefined }> {
    const s = signRequest(CREDS, { path: '/iam/', params: { action: 'DescribeUsers' }, now: at });
    return new Promise((resolve, reject) => {
      http
        .get(`${api.url}${s.path}?${s.query}`, { agent }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ body: JSON.parse(text) as Record<string, unknown>, date: res.headers.date }));
        })
        .on('error', reject);
    });
  }

  test('every answer carries a Date header from the emulator clock (not the wall clock)', async () => {
    const ok = await callWithDate(T);
    expect(ok).toEqual({ body: expect.objectContaining({ ret_code: 0 }), date: new Date(T).toUTCString() });
    const skewed = await callWithDate(T + 90_000);
    expect(skewed).toEqual({
      body: { ret_code: 1300, message: 'time_stamp is too far from server time' },
      date: new Date(T).toUTCString(),
    });
  });

  test('clockOffset moves the API host clock: time_stamp is judged by it and the Date header shows it', async () => {
    await withApi({ clockOffset: -90_000 }, async () => {
      const refused = await callWithDate(T);
      expect(refused).toEqual({
        body: { ret_code: 1300, message: 'time_stamp is too far from server time' },
        date: new Date(T - 90_000).toUTCString(),
      });
      expect((await callWithDate(T - 90_000)).body.ret_code).toBe(0);
      expect((await callWithDate(T - 90_000 + 61_000)).body.ret_code).toBe(1300);
    });
  });

  test.each([1200, 2000] as const)(
    'expiredToken: %d answers an expired STS token with HTTP 200 and that ret_code',
    async (code) => {
      await withApi({ expiredToken: code }, async () => {
        const r = await call(
          { action: 'DescribeUsers' },
          { creds: { accessKey: 'AKEXPIRED', secretKey: 'SKX', token: 'TX' } },
        );
        expect(r).toEqual({
          status: 200,
          body: { ret_code: code, message: code === 2000 ? 'session expired' : 'token expired' },
        });
        expect((await call({ action: 'DescribeUsers' })).body.ret_code).toBe(0);
      });
    },
  );

  test('expiredToken: "status" (the default) answers HTTP 401', async () => {
    await withApi({ expiredToken: 'status' }, async () => {
      const r = await call(
        { action: 'DescribeUsers' },
        { creds: { accessKey: 'AKEXPIRED', secretKey: 'SKX', token: 'TX' } },
      );
      expect(r).toEqual({ status: 401, body: { ret_code: 1200, message: 'token expired' } });
    });
  });

  test.each<[Partial<CloudApiEmulatorOptions>, RegExp]>([
    [{ clockOffset: Number.NaN }, /"clockOffset" must be a finite number of milliseconds/],
    [{ clockOffset: '90' as unknown as number }, /"clockOffset" must be a finite number of milliseconds/],
    [{ expiredToken: 1300 as unknown as 1200 }, /"expiredToken" must be "status", 1200 or 2000/],
  ])('refuses %j', (opts, message) => {
    expect(() => createCloudApiHandler({ lookupAccessKey: () => undefined, ...opts })).toThrow(message);
  });
});
