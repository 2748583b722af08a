import { resolveConfig } from '../../lib/config';
import { SsoGuardError } from '../../lib/errors';
import { CLIENT_ID, CLIENT_SECRET, SECRET } from '../helpers/options';

// auth({ cloudInfo }) and APPCENTER_CLOUD_INFO in place of ssoBaseUrl + cloud.apiBaseUrl.
// Precedence: options beat environment variables; within each, a specific address beats
// cloud_info, except that the two options together are refused (ambiguous in code).

const info = (sso: string, api: string): string =>
  Buffer.from(JSON.stringify({ sso_server: sso, api_server: api })).toString('base64');
const APPCENTER = info('sso.appcenter.example:7777', 'api.appcenter.example:7777');
const base = { appBaseUrl: 'http://app.test', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, secret: SECRET };

function servers(options: Record<string, unknown>, env: Record<string, string> = {}): [string, string | undefined] {
  const c = resolveConfig({ ...base, ...options }, env);
  return [c.ssoBaseUrl, c.cloud.apiBaseUrl];
}

function refusal(options: Record<string, unknown>, env: Record<string, string> = {}): string {
  try {
    resolveConfig({ ...base, ...options }, env);
  } catch (err) {
    expect(err).toBeInstanceOf(SsoGuardError);
    expect(err).toMatchObject({ code: 'invalid_option' });
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

test('the cloudInfo option sets both addresses', () => {
  expect(servers({ cloudInfo: APPCENTER })).toEqual([
    'https://sso.appcenter.example:7777',
    'https://api.appcenter.example:7777',
  ]);
});

test('APPCENTER_CLOUD_INFO sets both addresses', () => {
  expect(servers({}, { APPCENTER_CLOUD_INFO: APPCENTER })).toEqual([
    'https://sso.appcenter.example:7777',
    'https://api.appcenter.example:7777',
  ]);
});

test('the cloudInfo option beats every environment variable', () => {
  const env = {
    SSO_BASE_URL: 'https://sso.env.example',
    CLOUD_API_URL: 'https://api.env.example',
    APPCENTER_CLOUD_INFO: info('sso.other', 'api.other'),
  };
  expect(servers({ cloudInfo: APPCENTER }, env)).toEqual([
    'https://sso.appcenter.example:7777',
    'https://api.appcenter.example:7777',
  ]);
});

test.each<[string, Record<string, unknown>, Record<string, string>, [string, string]]>([
  [
    'ssoBaseUrl option',
    { ssoBaseUrl: 'https://sso.option.example' },
    {},
    ['https://sso.option.example', 'https://api.appcenter.example:7777'],
  ],
  [
    'cloud.apiBaseUrl option',
    { cloud: { apiBaseUrl: 'https://api.option.example' } },
    {},
    ['https://sso.appcenter.example:7777', 'https://api.option.example'],
  ],
  [
    'SSO_BASE_URL',
    {},
    { SSO_BASE_URL: 'http://127.0.0.1:4000' },
    ['http://127.0.0.1:4000', 'https://api.appcenter.example:7777'],
  ],
  [
    'CLOUD_API_URL',
    {},
    { CLOUD_API_URL: 'http://127.0.0.1:4000' },
    ['https://sso.appcenter.example:7777', 'http://127.0.0.1:4000'],
  ],
  [
    'an empty SSO_BASE_URL (unset)',
    {},
    { SSO_BASE_URL: '' },
    ['https://sso.appcenter.example:7777', 'https://api.appcenter.example:7777'],
  ],
])('with APPCENTER_CLOUD_INFO, the %s overrides its own address only', (_name, options, env, want) => {
  expect(servers(options, { APPCENTER_CLOUD_INFO: APPCENTER, ...env })).toEqual(want);
});

test('APPCENTER_CLOUD_INFO is not read when both addresses are given otherwise (a malformed one is then harmless)', () => {
  expect(
    servers(
      { ssoBaseUrl: 'https://sso.example' },
      { CLOUD_API_URL: 'https://api.example', APPCENTER_CLOUD_INFO: 'not base64!' },
    ),
  ).toEqual(['https://sso.example', 'https://api.example']);
});

test.each([
  [{ ssoBaseUrl: 'https://sso.example' }],
  [{ cloud: { apiBaseUrl: 'https://api.example' } }],
  [{ ssoBaseUrl: 'https://sso.appcenter.example:7777', cloud: { apiBaseUrl: 'https://api.appcenter.example:7777' } }],
])('cloudInfo with %j is refused, even when they agree', (options) => {
  expect(refusal({ cloudInfo: APPCENTER, ...options })).toBe(
    '"cloudInfo" replaces "ssoBaseUrl" and "cloud.apiBaseUrl"; give one or the other',
  );
});

test('a malformed cloudInfo or APPCENTER_CLOUD_INFO names its source and cloud_info, never the value', () => {
  const secretish = Buffer.from('{"sso_server":"hunter2.example/p","api_server":"x"}').toString('base64');
  expect(refusal({ cloudInfo: secretish })).toBe(
    '"cloudInfo": cloud_info.sso_server must be a host[:port] such as "api.qingcloud.com:7777" or an http(s) origin, without path, credentials, query or fragment',
  );
  expect(refusal({}, { APPCENTER_CLOUD_INFO: 'hunter2' })).toBe(
    'APPCENTER_CLOUD_INFO: cloud_info is not base64 of UTF-8 JSON',
  );
  expect(refusal({ cloudInfo: 42 })).toMatch(/^"cloudInfo": cloud_info must be a non-empty string/);
  expect(refusal({ cloudInfo: '' })).toMatch(/^"cloudInfo": cloud_info must be a non-empty string/);
});

test('without any of them, ssoBaseUrl is still required', () => {
  expect(refusal({})).toMatch(/^"ssoBaseUrl" must be an http\(s\) URL/);
});
