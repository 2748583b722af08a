import { inspect } from 'node:util';
import fc from 'fast-check';
import { parseCloudInfo } from '../../lib/cloud/cloud-info';
import { SsoGuardError } from '../../lib/errors';
import * as pkg from '../../lib/index';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const info = (o: unknown): string => b64(JSON.stringify(o));

/** Every message parseCloudInfo may throw: a fixed set, so no message can carry the input. */
const SERVER_RULE =
  'must be a host[:port] such as "api.qingcloud.com:7777" or an http(s) origin, without path, credentials, query or fragment';
const MESSAGES = {
  notString: 'cloud_info must be a non-empty string: base64 of JSON {"sso_server", "api_server"}',
  tooLong: 'cloud_info is too long (at most 8192 characters)',
  notBase64: 'cloud_info is not valid base64',
  notJson: 'cloud_info is not base64 of UTF-8 JSON',
  notObject: 'cloud_info must be a JSON object with string fields "sso_server" and "api_server"',
  sso: `cloud_info.sso_server ${SERVER_RULE}`,
  api: `cloud_info.api_server ${SERVER_RULE}`,
};
const KNOWN = new Set(Object.values(MESSAGES));

/** The message of the error `fn` throws, checked to be the typed one. */
function refusal(value: unknown): string {
  try {
    parseCloudInfo(value);
  } catch (err) {
    expect(err).toBeInstanceOf(SsoGuardError);
    expect(err).toMatchObject({ code: 'invalid_option' });
    expect('cause' in (err as Error)).toBe(false);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

test('is exported from the package index', () => {
  expect(pkg.parseCloudInfo).toBe(parseCloudInfo);
});

describe('accepts', () => {
  test('the documented example: no scheme, a port -> https://host:port', () => {
    expect(
      parseCloudInfo(info({ sso_server: 'api.qingcloud.com:7777', api_server: 'api.qingcloud.com:7777' })),
    ).toEqual({
      ssoBaseUrl: 'https://api.qingcloud.com:7777',
      apiBaseUrl: 'https://api.qingcloud.com:7777',
    });
  });

  test.each([
    ['sso.example.com', 'https://sso.example.com'],
    ['SSO.Example.COM', 'https://sso.example.com'],
    ['sso.example.com/', 'https://sso.example.com'],
    ['http://10.0.0.5:8080', 'http://10.0.0.5:8080'],
    ['HTTPS://private.cloud.internal', 'https://private.cloud.internal'],
    ['https://api.example.com:443', 'https://api.example.com'],
    ['localhost:7777', 'https://localhost:7777'],
    ['[::1]:9000', 'https://[::1]:9000'],
    ['http://[2001:db8::1]', 'http://[2001:db8::1]'],
  ])('%s -> %s (a scheme is kept; none means https)', (server, origin) => {
    expect(parseCloudInfo(info({ sso_server: server, api_server: 'api.example.com' })).ssoBaseUrl).toBe(origin);
    expect(parseCloudInfo(info({ sso_server: 'sso.example.com', api_server: server })).apiBaseUrl).toBe(origin);
  });

  test('base64url, missing padding, line-wrapped base64 (GNU base64 wraps at 76), a BOM, extra fields', () => {
    const json = JSON.stringify({
      sso_server: 'sso.example.com',
      api_server: 'api.example.com:7777',
      zone: 'pek3',
      description: '~~~~~~~~~~~~???????>>>>>>',
    });
    const want = { ssoBaseUrl: 'https://sso.example.com', apiBaseUrl: 'https://api.example.com:7777' };
    const std = b64(json);
    expect(std).toMatch(/[+/]/);
    expect(parseCloudInfo(Buffer.from(json).toString('base64url'))).toEqual(want);
    expect(parseCloudInfo(std.replace(/=+$/, ''))).toEqual(want);
    expect(parseCloudInfo(`${std.replace(/(.{76})/g, '$1\n')}\n`)).toEqual(want);
    expect(parseCloudInfo(b64(`\uFEFF${json}`))).toEqual(want);
  });
});

describe('refuses, naming cloud_info, never echoing the value', () => {
  test.each<[string, unknown, string]>([
    ['undefined', undefined, MESSAGES.notString],
    ['a number', 42, MESSAGES.notString],
    ['an empty string', '', MESSAGES.notString],
    ['whitespace', ' \n', MESSAGES.notString],
    ['a huge value', 'A'.repeat(8193), MESSAGES.tooLong],
    ['plain JSON (not base64)', '{"sso_server":"a","api_server":"b"}', MESSAGES.notBase64],
    ['base64 with a stray character', `${info({ sso_server: 'a', api_server: 'b' })}!`, MESSAGES.notBase64],
    ['base64 with a bad length', 'QUJDR', MESSAGES.notBase64],
    ['misplaced padding', 'QQ==QQ==', MESSAGES.notBase64],
    ['base64 of text', b64('sso.example.com'), MESSAGES.notJson],
    ['base64 of invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64'), MESSAGES.notJson],
    ['a JSON array', info(['sso.example.com', 'api.example.com']), MESSAGES.notObject],
    ['JSON null', info(null), MESSAGES.notObject],
    ['a missing api_server', info({ sso_server: 'sso.example.com' }), MESSAGES.notObject],
    ['a numeric sso_server', info({ sso_server: 7, api_server: 'api.example.com' }), MESSAGES.notObject],
    [
      'an inherited-looking field',
      'eyJfX3Byb3RvX18iOnsic3NvX3NlcnZlciI6ImEiLCJhcGlfc2VydmVyIjoiYiJ9fQ==',
      MESSAGES.notObject,
    ],
  ])('%s', (_name, value, message) => {
    expect(refusal(value)).toBe(message);
  });

  test.each([
    '',
    'ftp://sso.example.com',
    'javascript:alert(1)',
    'https://sso.example.com/sso/',
    'sso.example.com/path',
    'sso.example.com?x=1',
    'sso.example.com#frag',
    'user:hunter2@sso.example.com',
    'https://user:hunter2@sso.example.com',
    'sso.example.com:0',
    'sso.example.com:65536',
    'sso.example.com:',
    'sso.example.com:77a',
    'sso example.com',
    ' sso.example.com',
    'sso.example.com\\evil.com',
    'sso.exa\tmple.com',
    '-sso.example.com',
    'sso..example.com',
    'sso.example.com.',
    '1.2.3',
    '999.1.1.1',
    '0x7f.0.0.1',
    // One label a URL parser reads as an IPv4 address (127.0.0.1): only dotted quads are addresses.
    '0x7f000001',
    '0X7F000001',
    'https://0x7f000001:8443',
    '2130706433',
    '0177.0.0.1',
    '[::g]',
    `${'a'.repeat(64)}.example.com`,
    'https://',
    '//sso.example.com',
    'https:sso.example.com',
    'sso.éxample.com',
  ])('server %j', (server) => {
    expect(refusal(info({ sso_server: server, api_server: 'api.example.com' }))).toBe(MESSAGES.sso);
    expect(refusal(info({ sso_server: 'sso.example.com', api_server: server }))).toBe(MESSAGES.api);
  });
});

describe('properties', () => {
  const marker = 'Zq9XkW';
  /** Characters that matter to URL and base64 parsing, plus the marker's. */
  const urlChars = fc.constantFrom(
    ...'aZ09.-:/@[]?#\\%_~ \t\nhtps'.split(''),
    marker,
    'https://',
    'http://',
    'api.qingcloud.com',
    ':7777',
    '::1',
  );
  const good = fc
    .tuple(fc.constantFrom('', 'https://', 'http://'), fc.domain(), fc.option(fc.integer({ min: 1, max: 65535 })))
    .map(([scheme, host, port]) => `${scheme}${host}${port === null ? '' : `:${port}`}`);
  const server = fc.oneof(
    { arbitrary: good, weight: 3 },
    fc.string({ unit: urlChars, minLength: 1, maxLength: 12 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc
      .tuple(
        fc.constantFrom('', 'https://', 'http://', 'ftp://', `${marker}@`, `https://${marker}:pw@`),
        fc.domain(),
        fc.option(fc.integer({ min: 0, max: 70000 })),
        fc.constantFrom('', '/', `/${marker}`, `?${marker}`, `#${marker}`),
      )
      .map(([scheme, host, port, tail]) => `${scheme}${host}${port === null ? '' : `:${port}`}${tail}`),
  );
  const value = fc.oneof(
    { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }), weight: 2 },
    { arbitrary: fc.base64String({ maxLength: 200 }), weight: 1 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 100 }).map(b64), weight: 1 },
    { arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => info(v)), weight: 1 },
    { arbitrary: fc.record({ sso_server: server, api_server: server }).map(info), weight: 5 },
    {
      arbitrary: fc.record({ sso_server: server, api_server: fc.anything() }, { requiredKeys: [] }).map(info),
      weight: 1,
    },
  );

  test('any input either parses to two http(s) origins or throws the named error from a fixed set of messages', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(value, (v) => {
        let out: ReturnType<typeof parseCloudInfo>;
        try {
          out = parseCloudInfo(v);
        } catch (err) {
          expect(err).toBeInstanceOf(SsoGuardError);
          const message = (err as Error).message;
          expect(KNOWN.has(message)).toBe(true);
          // Nothing else on the error (cause, stack, own fields) carries the value either.
          expect(inspect(err, { showHidden: true, depth: Infinity })).not.toContain(marker);
          seen.set(message, (seen.get(message) ?? 0) + 1);
          return;
        }
        for (const origin of [out.ssoBaseUrl, out.apiBaseUrl]) {
          const url = new URL(origin);
          expect(['https:', 'http:']).toContain(url.protocol);
          expect(url.origin).toBe(origin);
          // Nothing but scheme, host and port survives (no user, password, path, query).
          expect(origin).toMatch(/^https?:\/\/(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/);
        }
        seen.set('ok', (seen.get('ok') ?? 0) + 1);
      }),
      { numRuns: 1500 },
    );
    // The generated inputs reach every stage of the parser, and some parse.
    for (const key of ['ok', MESSAGES.notBase64, MESSAGES.notJson, MESSAGES.notObject, MESSAGES.sso, MESSAGES.api]) {
      expect([key, (seen.get(key) ?? 0) >= 30]).toEqual([key, true]);
    }
  }, 60_000); // a few seconds alone; more on a loaded machine

  test('host[:port] without a scheme becomes https://host[:port]; with one it is kept (lower-cased, default port dropped)', () => {
    const label = fc.stringMatching(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,20}[A-Za-z0-9])?$/);
    const host = fc
      .array(label, { minLength: 1, maxLength: 4 })
      .map((l) => l.join('.'))
      // A numeric last label (decimal or 0x hex) makes a WHATWG URL read the host as IPv4 (`0x` is 0.0.0.0).
      .filter((h) => !/(^|\.)(\d+|0x[0-9a-f]*)$/i.test(h));
    fc.assert(
      fc.property(
        fc.constantFrom(undefined, 'http', 'https', 'HTTPS'),
        host,
        fc.option(fc.integer({ min: 1, max: 65535 })),
        (scheme, h, port) => {
          const raw = `${scheme === undefined ? '' : `${scheme}://`}${h}${port === null ? '' : `:${port}`}`;
          const s = (scheme ?? 'https').toLowerCase();
          const defaultPort = (s === 'https' && port === 443) || (s === 'http' && port === 80);
          const want = `${s}://${h.toLowerCase()}${port === null || defaultPort ? '' : `:${port}`}`;
          expect(parseCloudInfo(info({ sso_server: raw, api_server: raw }))).toEqual({
            ssoBaseUrl: want,
            apiBaseUrl: want,
          });
        },
      ),
      { numRuns: 500, seed: 42 },
    );
  });
});
