import fc from 'fast-check';
import { MAX_UPSTREAM_BODY } from '../../lib/util/http';

/**
 * Generated answers of the SSO's three JSON endpoints, and the oracle that says what each must
 * mean (section 1 of the spec): success, a refusal (4xx other than 408/429, or 2xx with a non-zero
 * `ret_code`), or an upstream failure (502 `upstream_error`, 503 `upstream_unavailable`, 504
 * `upstream_timeout`). Written from the README's "What ends a session" table, independently of
 * lib/sso/classify.ts. Shared by the SSO client's property test and the middleware's.
 */

export type JsonEndpoint = 'token' | 'check_token' | 'refresh_token';

/** An HTTP answer: status, content type (null: none) and body. */
export interface SsoAnswer {
  status: number;
  contentType: string | null;
  body: string;
}

export type Expected = 'success' | 'refusal' | 'upstream_error' | 'upstream_unavailable' | 'upstream_timeout';

/** Put in every generated body text: an error message or page that shows it reflected the SSO's body. */
export const REFLECTION_MARK = 'SsoBodyMark7';

const TOKEN_CHARS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/'];
const tokenArb = fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 8, maxLength: 64 });

/** A JWT with an `exp`, like the temporary credential `token`. */
const jwtArb = fc.integer({ min: 1_700_000_000, max: 2_100_000_000 }).map((exp) => {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'HS256' })}.${b64({ exp, sub: 'usr' })}.sig`;
});

/** Wrong values for a field: missing, wrong types, empty, unusable characters, huge. */
const badValue = fc.constantFrom<unknown>(
  undefined,
  null,
  0,
  123,
  -1,
  1.5,
  true,
  false,
  '',
  ' ',
  [],
  ['x'],
  {},
  { a: 1 },
  'has space',
  'new\nline',
  'tab\there',
  'caf\u00e9',
  '\u2603snow',
  'nul\u0000',
  'x'.repeat(5000),
  `${REFLECTION_MARK}<script>`,
);

function withBadFields(
  valid: fc.Arbitrary<Record<string, unknown>>,
  fields: string[],
): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(valid, fc.array(fc.tuple(fc.constantFrom(...fields, 'extra'), badValue), { maxLength: 3 }))
    .map(([body, bad]) => {
      const out: Record<string, unknown> = { ...body };
      for (const [k, v] of bad) {
        if (v === undefined) delete out[k];
        else out[k] = v;
      }
      return out;
    });
}

const expiresInArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 86400 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 86400 }).map(String) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(
      0,
      -5,
      '0',
      '3600.5',
      '1e3',
      ' 60',
      'NaN',
      1e308,
      0.5,
      '99999999999999999999999',
    ),
  },
);

function tokenBody(): fc.Arbitrary<Record<string, unknown>> {
  const valid = fc.record(
    {
      access_token: tokenArb,
      expires_in: expiresInArb,
      token_type: fc.constantFrom('Bearer', 'JWT', 'bearer'),
      refresh_token: fc.oneof(tokenArb, fc.constant(null)),
    },
    { requiredKeys: ['access_token', 'expires_in'] },
  );
  return withBadFields(valid, ['access_token', 'expires_in', 'token_type', 'refresh_token']);
}

function checkBody(): fc.Arbitrary<Record<string, unknown>> {
  const user = fc.record(
    {
      user_id: tokenArb,
      user_name: fc.string({ maxLength: 12 }),
      email: fc.constant('a@b.c'),
      lang: fc.constant('en'),
    },
    { requiredKeys: ['user_id'] },
  );
  const valid = fc.record({ access_key: tokenArb.map((k) => `TMP${k}`), secret_key: tokenArb, token: jwtArb, user });
  return withBadFields(valid, ['access_key', 'secret_key', 'token', 'user']);
}

/** `ret_code`: absent (most often), zero in its forms, non-zero numbers and strings, garbage. */
const retCodeArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(0, '0', '00', -0, null) },
  {
    weight: 3,
    arbitrary: fc.constantFrom<unknown>(
      1100,
      1200,
      1300,
      1400,
      2000,
      2100,
      2200,
      2500,
      5000,
      5100,
      5300,
      5999,
      -1,
      '2100',
      '1200',
      '5100',
      '5000',
      '1100',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('abc', true, {}, '0x1', 'ERR', 1.5, ' 2100') },
);

const STATUSES = [
  200, 200, 200, 200, 200, 200, 201, 202, 204, 206, 301, 302, 304, 307, 400, 401, 403, 404, 405, 408, 409, 413, 418,
  422, 429, 451, 500, 501, 502, 503, 504, 507, 599,
];
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/html; charset=utf-8',
  'text/plain',
  'application/octet-stream',
  null,
];

/** Any answer of `endpoint`: status x content type x body (valid, ret_code error, HTML, truncated, wrong shapes, too big). */
export function answerArb(endpoint: JsonEndpoint): fc.Arbitrary<SsoAnswer> {
  const fields = endpoint === 'check_token' ? checkBody() : tokenBody();
  const json = fc.tuple(fields, retCodeArb, fc.boolean()).map(([body, rc, withMessage]) => {
    const out: Record<string, unknown> = rc === undefined ? { ...body } : { ret_code: rc, ...body };
    if (withMessage) out.message = `${REFLECTION_MARK} failure`;
    return JSON.stringify(out);
  });
  const body = fc.oneof(
    { weight: 12, arbitrary: json },
    { weight: 2, arbitrary: fc.tuple(json, fc.nat()).map(([j, n]) => j.slice(0, n % j.length)) },
    { weight: 1, arbitrary: json.map((j) => `\ufeff${j}`) },
    { weight: 2, arbitrary: fc.constant(`<!doctype html><title>Error</title><h1>${REFLECTION_MARK} maintenance</h1>`) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '',
        'null',
        '[]',
        '[{}]',
        '"string"',
        '123',
        'true',
        `{"error":"invalid_grant","error_description":"${REFLECTION_MARK}"}`,
        '{"error":"invalid_token"}',
        '{"error":"invalid_request"}',
        '{"error":"access_denied"}',
        `${REFLECTION_MARK}=1&access_token=x`,
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }).map((s) => REFLECTION_MARK + s) },
    // Past the client's size limit (a 10 MB answer is in the fault matrix; the limit is what matters).
    {
      weight: 1,
      arbitrary: json.map(
        (j) => `${j.slice(0, -1)}${j.length > 2 ? ',' : ''}"pad":"${'x'.repeat(MAX_UPSTREAM_BODY)}"}`,
      ),
    },
  );
  return fc.record({ status: fc.constantFrom(...STATUSES), contentType: fc.constantFrom(...CONTENT_TYPES), body });
}

const plainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v !== '';
/** A token the app will send back in `Authorization: Bearer …`: RFC 6750 b64token syntax. */
const sendable = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9\-._~+/]+=*$/.test(v);

/** ret_code: 'none' (absent, null, 0 in any integer form), 'refusing', 'busy', 'server', 'other' or 'bad'. */
function retCodeClass(rc: unknown): string {
  if (rc === undefined || rc === null) return 'none';
  const n =
    typeof rc === 'number' && Number.isInteger(rc)
      ? rc
      : typeof rc === 'string' && /^-?\d+$/.test(rc)
        ? Number(rc)
        : NaN;
  if (Number.isNaN(n)) return 'bad';
  if (n === 0) return 'none';
  if ([1200, 1400, 2000, 2100, 2200].includes(n)) return 'refusing';
  if (n === 5100 || n === 5300) return 'busy';
  return n >= 5000 && n < 6000 ? 'server' : 'other';
}

function validExpiresIn(v: unknown): boolean {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n > 0;
}

/** A check_token user: an object with a non-empty string user_id; user_name, email, phone, lang strings when present. */
function validUser(u: unknown): boolean {
  if (!plainObject(u)) return false;
  const user = u as Record<string, unknown>;
  return (
    nonEmpty(user.user_id) &&
    ['user_name', 'email', 'phone', 'lang'].every((f) => user[f] === undefined || typeof user[f] === 'string')
  );
}

/** Whether a JSON object is a complete answer of the endpoint. */
export function validFields(endpoint: JsonEndpoint, b: Record<string, unknown>): boolean {
  if (endpoint === 'check_token')
    return nonEmpty(b.access_key) && nonEmpty(b.secret_key) && nonEmpty(b.token) && validUser(b.user);
  const rt = b.refresh_token;
  return sendable(b.access_token) && validExpiresIn(b.expires_in) && (rt === undefined || rt === null || nonEmpty(rt));
}

/** The bytes the client actually receives (no body on 204 and 304). */
export function receivedBody(a: SsoAnswer): string {
  return a.status === 204 || a.status === 304 ? '' : a.body;
}

/** What an answer must mean. */
export function expectedOutcome(endpoint: JsonEndpoint, a: SsoAnswer): Expected {
  const text = receivedBody(a);
  if (Buffer.byteLength(text) > MAX_UPSTREAM_BODY) return 'upstream_error';
  const s = a.status;
  if (s === 408 || s === 504) return 'upstream_timeout';
  if (s === 429 || s === 503) return 'upstream_unavailable';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\ufeff/, ''));
  } catch {
    parsed = undefined;
  }
  const ok = s >= 200 && s < 300;
  // Only 2xx, 400 and 401 JSON objects can say anything; every other answer is a 502.
  if (!plainObject(parsed) || !(ok || s === 400 || s === 401)) return 'upstream_error';
  const rc = retCodeClass(parsed.ret_code);
  if (rc === 'refusing') return 'refusal';
  if (rc === 'busy') return 'upstream_unavailable';
  if (rc !== 'none') return 'upstream_error';
  if (!ok)
    return ['invalid_grant', 'invalid_token', 'invalid_client'].includes(parsed.error as string)
      ? 'refusal'
      : 'upstream_error';
  return validFields(endpoint, parsed) ? 'success' : 'upstream_error';
}

/** The parsed JSON of an answer the oracle called a success. */
export function parsedBody(a: SsoAnswer): Record<string, unknown> {
  return JSON.parse(receivedBody(a).replace(/^\ufeff/, '')) as Record<string, unknown>;
}
