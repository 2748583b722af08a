import { createHmac } from 'node:crypto';
import { SsoGuardError } from '../errors';

/** HTTP methods the cloud API accepts for signed calls. */
export type CloudHttpMethod = 'GET' | 'POST';

/** The `signature_version` values the cloud API accepts; both use the same HMAC-SHA256 scheme. */
export type SignatureVersion = 1 | 2;

/** Keys that sign a request: a long-lived key pair, or temporary (STS) credentials with `token`. */
export interface SigningCredentials {
  /** Sent as `access_key_id`. */
  accessKey: string;
  /** The HMAC key; never sent, never logged. */
  secretKey: string;
  /** The STS token of temporary credentials; when present it is sent (and signed) as `token`. */
  token?: string;
}

/** What to sign with {@link signRequest}. */
export interface SignRequestInput {
  /** Default `'GET'`. For `'POST'` the returned `query` is the form body. */
  method?: CloudHttpMethod;
  /** The path exactly as it will be sent. Default `/iam/` with a token, else `/iaas/`. */
  path?: string;
  /** Call parameters (`action`, `zone`, …); nested lists and objects are flattened. */
  params: Record<string, unknown>;
  /** Time of signing, a Date or ms since the epoch. Default: now. */
  now?: Date | number;
  /** Default 2 with a token (the API docs), 1 without; some official SDKs send 1 with a token. */
  signatureVersion?: SignatureVersion;
}

/** A signed request, ready to send. */
export interface SignedRequest {
  method: CloudHttpMethod;
  path: string;
  /** Canonical query plus `&signature=…`: the URL query for GET, the form body for POST. */
  query: string;
  /** The raw Base64 signature (not percent-encoded). */
  signature: string;
  /** Every signed parameter, flattened, without `signature`. */
  params: Record<string, string>;
}

/** Parameters the signer sets itself; a caller passing one is refused rather than silently overridden. */
const SIGNER_PARAMS = ['access_key_id', 'signature', 'signature_method', 'signature_version', 'time_stamp', 'token'];

/**
 * Percent-encodes `s` as UTF-8, leaving only `A-Z a-z 0-9 - _ . ~` as is, with upper-case hex
 * (so a space is `%20`). Unlike `encodeURIComponent`, also encodes `! ' ( ) *`.
 * Throws an `invalid_option` SsoGuardError on a lone surrogate, which has no UTF-8 form.
 */
export function percentEncode(s: string): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(s);
  } catch {
    // Not echoing the value: parameters such as `login_passwd` are secrets.
    throw new SsoGuardError(
      'invalid_option',
      'cloud API parameters must be well-formed Unicode; found a lone surrogate',
    );
  }
  return encoded.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Flattens call parameters the way the API expects: arrays become `key.1`, `key.2`, … (1-based,
 * dense: `undefined`/`null` entries are skipped, not numbered), objects become `key.field`, so an
 * array of objects gives `key.1.field`. Numbers, bigints and booleans are stringified;
 * `undefined` and `null` are dropped. Throws an `invalid_option` SsoGuardError on other values
 * (functions, Dates, non-finite numbers, …) and on a name produced twice.
 */
export function flattenParams(params: Record<string, unknown>): Record<string, string> {
  // A null prototype so a parameter named `__proto__` or `constructor` is kept as data.
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  const put = (name: string, value: unknown): void => {
    if (value === undefined || value === null) return;
    if (Array.isArray(value)) {
      let n = 0;
      for (const item of value as unknown[]) {
        if (item !== undefined && item !== null) put(`${name}.${++n}`, item);
      }
      return;
    }
    if (isPlainObject(value)) {
      for (const [k, v] of Object.entries(value)) put(`${name}.${k}`, v);
      return;
    }
    if (Object.prototype.hasOwnProperty.call(out, name)) {
      throw new SsoGuardError('invalid_option', `cloud API parameter "${name}" is given twice`);
    }
    out[name] = scalar(name, value);
  };
  for (const [k, v] of Object.entries(params)) put(k, v);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function scalar(name: string, value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'number':
      if (Number.isFinite(value)) return String(value);
      break;
  }
  const kind = typeof value === 'number' ? String(value) : value instanceof Date ? 'a Date' : `a ${typeof value}`;
  throw new SsoGuardError(
    'invalid_option',
    `cloud API parameter "${name}" must be a string, number or boolean (or a list/object of them); received ${kind}`,
  );
}

/** Byte order of the UTF-8 forms, which equals code-point order (plain `sort()` uses UTF-16 units). */
export function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The canonical query: parameters flattened (see {@link flattenParams}), sorted by name in UTF-8
 * byte order (the raw names, before encoding), each `percentEncode(name)=percentEncode(value)`,
 * joined with `&`. This is the third line of the string to sign.
 */
export function canonicalQuery(params: Record<string, unknown>): string {
  const flat = flattenParams(params);
  return Object.keys(flat)
    .sort(byUtf8)
    .map((k) => `${percentEncode(k)}=${percentEncode(flat[k] as string)}`)
    .join('&');
}

/**
 * `time_stamp` format: UTC `YYYY-MM-DDThh:mm:ssZ`, milliseconds truncated (the API refuses them).
 * Throws an `invalid_option` SsoGuardError on an invalid date.
 */
export function formatTimestamp(date: Date | number): string {
  const d = typeof date === 'number' ? new Date(date) : date;
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) {
    throw new SsoGuardError('invalid_option', 'cloud API signing time must be a valid Date or epoch milliseconds');
  }
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The string the signature covers: `METHOD\npath\ncanonical query`. */
export function stringToSign(method: string, path: string, params: Record<string, unknown>): string {
  return `${method}\n${path}\n${canonicalQuery(params)}`;
}

/**
 * The raw (not percent-encoded) signature: standard padded Base64 of HMAC-SHA256 keyed with
 * `secretKey` over {@link stringToSign}. `params` are signed as given: nothing is added.
 */
export function computeSignature(
  secretKey: string,
  method: string,
  path: string,
  params: Record<string, unknown>,
): string {
  return createHmac('sha256', secretKey)
    .update(stringToSign(method, path, params), 'utf8')
    .digest('base64');
}

/**
 * Signs one cloud API call. Adds `access_key_id`, `signature_method=HmacSHA256`,
 * `signature_version`, `version=1` (unless `params.version` is given), `time_stamp` (from `now`)
 * and, with temporary credentials, `token`; then appends `signature` last. The caller must not
 * pass the parameters the signer sets. Pure apart from reading the clock when `now` is omitted.
 */
export function signRequest(credentials: SigningCredentials, req: SignRequestInput): SignedRequest {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'POST') {
    throw new SsoGuardError(
      'invalid_option',
      `cloud API method must be "GET" or "POST"; received ${JSON.stringify(String(method))}`,
    );
  }
  const hasToken = credentials.token !== undefined;
  const path = req.path ?? (hasToken ? '/iam/' : '/iaas/');
  const version = req.signatureVersion ?? (hasToken ? 2 : 1);
  if (version !== 1 && version !== 2) {
    throw new SsoGuardError('invalid_option', `signature version must be 1 or 2; received ${String(version)}`);
  }
  const params = flattenParams(req.params);
  for (const name of SIGNER_PARAMS) {
    if (name in params)
      throw new SsoGuardError('invalid_option', `cloud API parameter "${name}" is set by the signer; do not pass it`);
  }
  params.access_key_id = credentials.accessKey;
  params.signature_method = 'HmacSHA256';
  params.signature_version = String(version);
  params.version ??= '1';
  params.time_stamp = formatTimestamp(req.now ?? Date.now());
  if (hasToken) params.token = credentials.token as string;

  const signature = computeSignature(credentials.secretKey, method, path, params);
  const query = `${canonicalQuery(params)}&signature=${percentEncode(signature)}`;
  return { method, path, query, signature, params };
}
