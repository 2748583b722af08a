import { createCore } from '../../lib/instance';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SsoGuardError } from '../../lib/errors';
import { CLASSIFICATION, classifyRow, retCodeKind, type Row } from '../../lib/sso/classify';
import { SsoClient } from '../../lib/sso/sso-client';
import { testOptions } from '../helpers/options';
import { startRawSso, type RawSso } from '../helpers/raw-sso';

// The one table that decides what ends a session, and ret_code in every
// documented form on all three SSO calls.

const row = (status: number, json?: Record<string, unknown>, wwwAuthenticate?: string): Row =>
  classifyRow({ status, json, wwwAuthenticate });

describe('retCodeKind', () => {
  it.each([
    [undefined, 'none'],
    [null, 'none'],
    [0, 'none'],
    ['0', 'none'],
    ['00', 'none'],
    [-0, 'none'],
    [1200, 'refusing'],
    ['1200', 'refusing'],
    [1400, 'refusing'],
    [2000, 'refusing'],
    ['2100', 'refusing'],
    [2200, 'refusing'],
    [5100, 'busy'],
    ['5300', 'busy'],
    [5000, 'server'],
    ['5999', 'server'],
    [1100, 'other'],
    ['1300', 'other'],
    [2500, 'other'],
    [-1, 'other'],
    ['abc', 'malformed'],
    [1.5, 'malformed'],
    [' 2100', 'malformed'],
    ['0x1', 'malformed'],
    [true, 'malformed'],
    [{}, 'malformed'],
  ])('%j is %s', (value, kind) => {
    expect(retCodeKind(value)).toBe(kind);
  });
});

describe('classifyRow: every row', () => {
  it.each([
    ['408 page', row(408), 'upstream_timeout'],
    ['429 JSON', row(429, { error: 'invalid_grant' }), 'upstream_unavailable'],
    ['503 page', row(503), 'upstream_unavailable'],
    ['504 page', row(504), 'upstream_timeout'],
    [
      '401 + WWW-Authenticate invalid_token, no body',
      row(401, undefined, 'Bearer realm="x", error="invalid_token"'),
      'refused',
    ],
    ['200 JSON, no ret_code', row(200, { access_token: 'a' }), 'success'],
    ['200 JSON, ret_code "0"', row(200, { ret_code: '0' }), 'success'],
    ['200 JSON, ret_code 2100', row(200, { ret_code: 2100 }), 'refused'],
    ['401 JSON, ret_code "1200"', row(401, { ret_code: '1200' }), 'refused'],
    ['200 JSON, ret_code 5100', row(200, { ret_code: 5100 }), 'upstream_unavailable'],
    ['200 JSON, ret_code "5300"', row(200, { ret_code: '5300' }), 'upstream_unavailable'],
    ['200 JSON, ret_code 5000', row(200, { ret_code: 5000 }), 'upstream_error'],
    ['200 JSON, ret_code 1100', row(200, { ret_code: 1100 }), 'upstream_error'],
    ['200 JSON, ret_code "abc"', row(200, { ret_code: 'abc' }), 'upstream_error'],
    ['400 JSON invalid_grant', row(400, { error: 'invalid_grant' }), 'refused'],
    ['401 JSON invalid_token', row(401, { error: 'invalid_token' }), 'refused'],
    ['401 JSON invalid_client', row(401, { error: 'invalid_client' }), 'refused'],
    ['400 JSON invalid_request', row(400, { error: 'invalid_request' }), 'upstream_error'],
    ['400 JSON without error', row(400, {}), 'upstream_error'],
    ['403 JSON invalid_token', row(403, { error: 'invalid_token' }), 'upstream_error'],
    ['403 page', row(403), 'upstream_error'],
    ['404 page', row(404), 'upstream_error'],
    ['405 page', row(405), 'upstream_error'],
    ['401 page', row(401), 'upstream_error'],
    ['200 page', row(200), 'upstream_error'],
    ['302', row(302), 'upstream_error'],
    ['500 JSON ret_code 2100', row(500, { ret_code: 2100 }), 'upstream_error'],
    ['404 JSON ret_code 2100', row(404, { ret_code: 2100 }), 'upstream_error'],
  ] as const)('%s -> %s', (_label, r, outcome) => {
    expect(r.outcome).toBe(outcome);
  });

  it('every row of the table is reached by some answer', () => {
    const reached = new Set([
      row(408),
      row(429),
      row(503),
      row(504),
      row(401, undefined, 'Bearer error="invalid_token"'),
      row(200, {}),
      row(200, { ret_code: 2100 }),
      row(200, { ret_code: 5100 }),
      row(200, { ret_code: 5000 }),
      row(200, { ret_code: 1100 }),
      row(200, { ret_code: 'x' }),
      row(400, { error: 'invalid_grant' }),
      row(404),
    ]);
    expect(reached.size).toBe(CLASSIFICATION.length);
  });
});

/** The README row of a table row: `| status | body | ret_code / error | outcome |`. */
function readmeRow(r: Row): string {
  const status =
    r.status === '*'
      ? 'any other'
      : r.status === '2xx'
        ? '2xx'
        : r.status === '2xx/400/401'
          ? '2xx, 400, 401'
          : r.status.join(', ');
  const body = r.body === '*' ? 'any' : r.body;
  const rc = r.bearerInvalidToken
    ? '`WWW-Authenticate: Bearer error="invalid_token"`'
    : r.error === 'refusing'
      ? '`error`: `invalid_grant`, `invalid_token`, `invalid_client`'
      : r.retCode === '*'
        ? 'any'
        : `ret_code ${r.retCode}`;
  const outcome = {
    success: 'success',
    refused: '**refused**',
    upstream_error: '502',
    upstream_unavailable: '503',
    upstream_timeout: '504',
  }[r.outcome];
  return `| ${status} | ${body} | ${rc} | ${outcome} | ${r.why} |`;
}

it('the README\'s "What ends a session" table is this table, row for row', () => {
  const readme = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### What ends a session'));
  const lines = section
    .split('\n')
    .filter((l) => l.startsWith('| '))
    .slice(2, 2 + CLASSIFICATION.length);
  expect(lines).toEqual(CLASSIFICATION.map(readmeRow));
});

describe('ret_code forms on all three SSO calls (a raw server)', () => {
  let raw: RawSso;
  let c: SsoClient;
  beforeAll(async () => {
    raw = await startRawSso();
    c = createCore(testOptions({ ssoBaseUrl: raw.url, httpTimeout: 2000 })).sso;
  });
  afterAll(() => raw.close());

  const TOKENS = { access_token: 'at-1', expires_in: 3600, token_type: 'Bearer', refresh_token: 'rt-1' };
  const CHECK = { access_key: 'AK', secret_key: 'SK', token: 'a.b.c', user: { user_id: 'u' } };
  const calls = {
    token: () => c.exchangeCode('code'),
    check_token: () => c.checkToken('at-1'),
    refresh_token: () => c.refresh('at-1', 'rt-1'),
  };
  const answer = (body: unknown) => raw.respond(() => ({ kind: 'http', status: 200, body: JSON.stringify(body) }));
  async function code(p: Promise<unknown>): Promise<string> {
    try {
      const got = await p;
      return got === undefined ? 'refused' : 'ok';
    } catch (err) {
      expect(err).toBeInstanceOf(SsoGuardError);
      return (err as SsoGuardError).code;
    }
  }

  describe.each(Object.keys(calls) as (keyof typeof calls)[])('%s', (endpoint) => {
    const success = endpoint === 'check_token' ? CHECK : TOKENS;
    const refused =
      endpoint === 'token' ? 'code_rejected' : endpoint === 'check_token' ? 'refused' : 'refresh_rejected';
    it.each([
      ['absent', undefined],
      ['0', 0],
      ['"0"', '0'],
    ])('success with ret_code %s', async (_label, rc) => {
      answer(rc === undefined ? success : { ret_code: rc, ...success });
      expect(await code(calls[endpoint]())).toBe('ok');
    });
    it.each([
      [2100, refused],
      ['2100', refused],
      [1200, refused],
      ['2000', refused],
      [5100, 'upstream_unavailable'],
      ['5100', 'upstream_unavailable'],
      [5300, 'upstream_unavailable'],
      ['5300', 'upstream_unavailable'],
      [5000, 'upstream_error'],
      ['5000', 'upstream_error'],
      [1100, 'upstream_error'],
      ['1100', 'upstream_error'],
    ])('ret_code %j -> %s', async (rc, want) => {
      answer({ ret_code: rc, message: 'x' });
      expect(await code(calls[endpoint]())).toBe(want);
    });
  });
});
