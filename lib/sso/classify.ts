import { jsonObject, retCode, type UpstreamResponse } from '../util/http';

/**
 * What an answer of `/sso/token/`, `/sso/check_token/` or `/sso/refresh_token/` means. The ONE
 * place that decides whether the SSO refused (which ends a login or a session) or failed (which
 * must not): the README's "What ends a session" table is this table.
 */
export type Classification =
  /** A 2xx JSON object without an error `ret_code`: read its fields (missing ones are `upstream_error`). */
  | 'success'
  /** A definitive, well-formed refusal: the code, access token or refresh token is not valid. */
  | 'refused'
  /** 502: the SSO (or something in front of it) answered something that is not an answer. */
  | 'upstream_error'
  /** 503: busy, rate limited or upgrading; try again. */
  | 'upstream_unavailable'
  /** 504: the SSO (or a proxy) timed out. */
  | 'upstream_timeout';

/** The `ret_code` values that refuse the code or token (IaaS error codes and the emulator's). */
export const REFUSING_RET_CODES: readonly number[] = [1200, 1400, 2000, 2100, 2200];
/** `ret_code` values that mean "busy, try again" (503). Any other 5xxx is a 502. */
export const BUSY_RET_CODES: readonly number[] = [5100, 5300];
/** OAuth `error` values (RFC 6749 5.2, RFC 6750 3.1) that refuse the code or token. */
export const REFUSING_ERRORS: readonly string[] = ['invalid_grant', 'invalid_token', 'invalid_client'];

/** How the `ret_code` of a JSON body reads. */
export type RetCodeKind = 'none' | 'refusing' | 'busy' | 'server' | 'other' | 'malformed';

/** An answer reduced to what the table looks at. */
export interface Answer {
  status: number;
  /** The body when it is a JSON object, else `undefined` (HTML, text, empty, array, truncated JSON). */
  json: Record<string, unknown> | undefined;
  /** The `WWW-Authenticate` header, if any. */
  wwwAuthenticate: string | undefined;
}

/** One row: the first row whose every condition holds decides. */
export interface Row {
  /** HTTP status: a list, a class, or `'*'`. */
  status: readonly number[] | '2xx' | '2xx/400/401' | '*';
  /** `'JSON object'`: the body parses as one; `'*'`: any body (HTML, text, empty, truncated, ...). */
  body: 'JSON object' | '*';
  /** `ret_code` kind; `'*'`: any. */
  retCode: RetCodeKind | '*';
  /** For 400/401 JSON errors: whether `error` is one of {@link REFUSING_ERRORS}. */
  error?: 'refusing' | 'other';
  /** For 401: a `WWW-Authenticate: Bearer error="invalid_token"` header. */
  bearerInvalidToken?: true;
  outcome: Classification;
  /** Why, for the README. */
  why: string;
}

const OAUTH_ERROR_STATUSES = [400, 401];

/** The classification table, in order. */
export const CLASSIFICATION: readonly Row[] = Object.freeze([
  { status: [408], body: '*', retCode: '*', outcome: 'upstream_timeout', why: 'a proxy timed out' },
  { status: [429], body: '*', retCode: '*', outcome: 'upstream_unavailable', why: 'rate limited' },
  { status: [503], body: '*', retCode: '*', outcome: 'upstream_unavailable', why: 'unavailable' },
  { status: [504], body: '*', retCode: '*', outcome: 'upstream_timeout', why: 'a gateway timed out' },
  {
    status: [401],
    body: '*',
    retCode: '*',
    bearerInvalidToken: true,
    outcome: 'refused',
    why: 'RFC 6750 refusal of the Bearer token',
  },
  {
    status: '2xx',
    body: 'JSON object',
    retCode: 'none',
    outcome: 'success',
    why: 'the answer (fields checked next: missing ones are a 502)',
  },
  { status: '2xx/400/401', body: 'JSON object', retCode: 'refusing', outcome: 'refused', why: 'auth-class ret_code' },
  {
    status: '2xx/400/401',
    body: 'JSON object',
    retCode: 'busy',
    outcome: 'upstream_unavailable',
    why: 'busy or upgrading',
  },
  { status: '2xx/400/401', body: 'JSON object', retCode: 'server', outcome: 'upstream_error', why: 'internal error' },
  {
    status: '2xx/400/401',
    body: 'JSON object',
    retCode: 'other',
    outcome: 'upstream_error',
    why: 'not about the token (format, quota, ...)',
  },
  {
    status: '2xx/400/401',
    body: 'JSON object',
    retCode: 'malformed',
    outcome: 'upstream_error',
    why: 'not a ret_code',
  },
  {
    status: OAUTH_ERROR_STATUSES,
    body: 'JSON object',
    retCode: 'none',
    error: 'refusing',
    outcome: 'refused',
    why: 'OAuth refusal of the code or token',
  },
  {
    status: '*',
    body: '*',
    retCode: '*',
    outcome: 'upstream_error',
    why: 'anything else: other statuses (3xx, 403, 404, 405, 5xx), pages, other JSON errors',
  },
] satisfies Row[]);

/** Reads a `ret_code`: absent, `null`, `0` and `"0"` are none; integers and digit strings by value. */
export function retCodeKind(value: unknown): RetCodeKind {
  const n = retCode(value);
  if (n === undefined) return 'none';
  if (n === 'malformed') return 'malformed';
  if (REFUSING_RET_CODES.includes(n)) return 'refusing';
  if (BUSY_RET_CODES.includes(n)) return 'busy';
  if (n >= 5000 && n <= 5999) return 'server';
  return 'other';
}

function statusMatches(rule: Row['status'], status: number): boolean {
  if (rule === '*') return true;
  const ok = status >= 200 && status < 300;
  if (rule === '2xx') return ok;
  if (rule === '2xx/400/401') return ok || OAUTH_ERROR_STATUSES.includes(status);
  return rule.includes(status);
}

const BEARER_INVALID_TOKEN = /^\s*Bearer\b.*\berror\s*=\s*"?invalid_token"?/i;

/** The first row of {@link CLASSIFICATION} that matches `answer`. */
export function classifyRow(answer: Answer): Row {
  const { status, json } = answer;
  const rc = json === undefined ? undefined : retCodeKind(json.ret_code);
  const error =
    json !== undefined && typeof json.error === 'string' && REFUSING_ERRORS.includes(json.error) ? 'refusing' : 'other';
  const bearerInvalid = answer.wwwAuthenticate !== undefined && BEARER_INVALID_TOKEN.test(answer.wwwAuthenticate);
  for (const row of CLASSIFICATION) {
    if (!statusMatches(row.status, status)) continue;
    if (row.body === 'JSON object' && json === undefined) continue;
    if (row.retCode !== '*' && row.retCode !== rc) continue;
    if (row.error !== undefined && row.error !== error) continue;
    if (row.bearerInvalidToken === true && !bearerInvalid) continue;
    return row;
  }
  /* c8 ignore next */
  throw new Error('unreachable: the last row matches everything');
}

/** Classifies an HTTP answer of the SSO. */
export function classify(res: UpstreamResponse): {
  outcome: Classification;
  json: Record<string, unknown> | undefined;
  row: Row;
} {
  const json = jsonObject(res.data);
  const header = res.headers?.['www-authenticate'] as unknown;
  const row = classifyRow({
    status: res.status,
    json,
    wwwAuthenticate: typeof header === 'string' ? header : undefined,
  });
  return { outcome: row.outcome, json, row };
}
