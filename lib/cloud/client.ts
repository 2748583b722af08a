import type { AxiosInstance } from 'axios';
import createDebug from 'debug';
import { CloudApiError, SsoGuardError } from '../errors';
import {
  createHttpClient,
  parseJsonObject,
  retCode,
  send,
  type HttpClient,
  type UpstreamRequest,
  type UpstreamResponse,
} from '../util/http';
import {
  axiosInstance,
  describeValue,
  fn,
  httpOrigin,
  instanceOf,
  oneOf,
  positiveInteger,
  resolveOptions,
  zoneId,
  type OptionTable,
} from '../option-rules';
import { jwtExpiry } from '../util/crypto';
import { CloudClockSkew } from './clock-skew';
import { signRequest, type CloudHttpMethod, type SignatureVersion } from './signer';
import { createTelemetry, type Telemetry } from '../telemetry/telemetry';
import type { SsoCredentials } from '../sso/types';

const debug = createDebug('express-sso-guard:cloud');

/** @deprecated The same type as {@link SsoCredentials} (one type, one name): use `SsoCredentials`. */
export type CloudCredentials = SsoCredentials;

/** Options of {@link CloudClient}. */
export interface CloudClientOptions {
  /** The API origin, e.g. `https://api.qingcloud.com`, with no path: the client adds `/iam/`. */
  apiBaseUrl: string;
  /**
   * Returns the user's current credentials. Called once per call, and with `forceRefresh: true`
   * when the STS token expires within 30 s or the API refuses them (HTTP 401, or ret_code 1200
   * authentication failed / 2000 session expired).
   */
  getCredentials: (opts: { forceRefresh: boolean }) => Promise<SsoCredentials>;
  /** Deadline per HTTP attempt, in ms (connect, headers and body). Default 5000. */
  timeout?: number;
  /** `signature_version` sent with the token. Default 2 (the API docs); some official SDKs send 1. */
  signatureVersion?: SignatureVersion;
  /** Zone added to calls whose parameters have none. Default: none. */
  zone?: string;
  /**
   * An axios instance for the API calls, e.g. one with your interceptors or proxy agent. Default:
   * the package's own client on Node's http (keep-alive, no redirects, text bodies).
   */
  http?: AxiosInstance;
  /** Current time in ms, for `time_stamp` and token expiry. Default `Date.now`. */
  clock?: () => number;
  /**
   * Where the API host's clock offset (learned from a ret_code 1300 answer's `Date` header) is
   * kept. Share one between clients so that what one call learned serves the next. Default: a
   * new one per client.
   */
  clockSkew?: CloudClockSkew;
}

/** Options of one {@link CloudClient.call}. */
export interface CloudCallOptions {
  /** Default `'GET'` (signed query on the URL); `'POST'` sends the same string as a form body. */
  method?: CloudHttpMethod;
}

interface ResolvedCloudConfig {
  /** The API origin (`apiBaseUrl` checked to have no path). */
  readonly origin: string;
  readonly getCredentials: CloudClientOptions['getCredentials'];
  readonly timeout: number;
  readonly signatureVersion: SignatureVersion;
  readonly zone: string | undefined;
  readonly http: HttpClient;
  readonly clock: () => number;
  readonly clockSkew: CloudClockSkew;
}

/** `time_stamp` more than 60 s from the API host's clock. */
const RET_CODE_CLOCK_SKEW = 1300;
/** Credentials refused in an HTTP 200: 1200 authentication failed, 2000 session expired. */
const AUTH_RET_CODES: ReadonlySet<number> = new Set([1200, 2000]);
const API_PATH = '/iam/';
/** Marks options already resolved by {@link cloudClients}, so a per-request client skips validation. */
const RESOLVED = Symbol('express-sso-guard.cloud-resolved');

/** Refresh before signing when the token has less left than this: a call must not die in flight. */
const REFRESH_MARGIN_MS = 30_000;
const MAX_MESSAGE_CHARS = 200;

/**
 * Signed calls to the cloud API with a user's temporary credentials. Framework-independent:
 * the middleware builds one per request around that user's credentials.
 */
export class CloudClient {
  private readonly config: ResolvedCloudConfig;
  private readonly telemetry: Telemetry;

  /** Validates `opts` once; a bad option throws an `invalid_option` SsoGuardError naming it. */
  constructor(
    opts: CloudClientOptions,
    /** @internal the `auth()` instance's metrics and spans */ telemetry?: Telemetry,
  ) {
    this.config = (opts as { [RESOLVED]?: ResolvedCloudConfig } | null)?.[RESOLVED] ?? resolveCloudOptions(opts);
    this.telemetry = telemetry ?? createTelemetry();
  }

  /**
   * Calls `action` and resolves with the API's JSON answer. Rejects with {@link CloudApiError}
   * on a non-zero `ret_code` or error status, and with an SsoGuardError
   * `upstream_error`/`upstream_unavailable`/`upstream_timeout` otherwise. Retries at most once
   * with fresh credentials (HTTP 401, ret_code 1200 or 2000) and at most once re-signed with the
   * API host's time (ret_code 1300 whose `Date` header shows our clock is off).
   */
  call<T = Record<string, unknown>>(
    action: string,
    params: Record<string, unknown> = {},
    opts: CloudCallOptions = {},
  ): Promise<T> {
    return this.telemetry.cloud(action, new URL(this.config.origin).hostname, () =>
      this.invoke<T>(action, params, opts),
    );
  }

  private async invoke<T>(action: string, params: Record<string, unknown>, opts: CloudCallOptions): Promise<T> {
    // Action names reach logs and error messages, so only plain names are allowed.
    if (typeof action !== 'string' || !/^[A-Za-z][A-Za-z0-9_]{0,99}$/.test(action)) {
      throw new SsoGuardError(
        'invalid_option',
        `cloud action must be an API action name such as "DescribeInstances"; received ${describeValue(action)}`,
      );
    }
    const method = opts.method ?? 'GET';
    if (method !== 'GET' && method !== 'POST') {
      throw new SsoGuardError(
        'invalid_option',
        `cloud call method must be "GET" or "POST"; received ${describeValue(method)}`,
      );
    }
    if (params !== null && typeof params === 'object' && 'action' in params) {
      throw new SsoGuardError(
        'invalid_option',
        'cloud call parameters must not contain "action"; pass it as the first argument',
      );
    }
    const { clock, zone } = this.config;
    const callParams =
      zone !== undefined && (params.zone === undefined || params.zone === null) ? { ...params, zone } : params;

    let creds = await this.credentials(false);
    const expSec = jwtExpiry(creds.token);
    const exp = expSec === undefined ? undefined : expSec * 1000;
    if (exp !== undefined && exp - clock() <= REFRESH_MARGIN_MS) {
      debug('%s: STS token expires within %d ms, refreshing first', action, REFRESH_MARGIN_MS);
      creds = await this.credentials(true);
    }
    // At most one re-signed retry for clock skew and one with fresh credentials, in any order.
    let skewRetried = false;
    let credentialsRetried = false;
    // The offset this call signs with: the shared one, or what this call's own 1300 answer said.
    let offset: number | undefined;
    let attempt = await this.attempt(action, method, callParams, creds, offset);
    for (;;) {
      const refusal = refusalOf(attempt.res);
      const learned =
        refusal === 'clock_skew' && !skewRetried
          ? this.config.clockSkew.learn(attempt.res.headers.date, clock(), attempt.offset)
          : undefined;
      if (learned !== undefined) {
        skewRetried = true;
        offset = learned;
        debug('%s: ret_code 1300, re-signing with the API clock (offset %d ms) and retrying once', action, learned);
      } else if (refusal === 'credentials' && !credentialsRetried) {
        // The token expired (or was revoked) between check and use: one fresh set, one retry.
        credentialsRetried = true;
        debug('%s: credentials refused, refreshing them and retrying once', action);
        creds = await this.credentials(true);
      } else {
        break;
      }
      attempt = await this.attempt(action, method, callParams, creds, offset);
    }
    const redact = [creds.secretKey, creds.token, attempt.signature];
    return interpret<T>(action, attempt.res, redact);
  }

  private async credentials(forceRefresh: boolean): Promise<SsoCredentials> {
    const c = await this.config.getCredentials({ forceRefresh });
    const ok = (v: unknown): boolean => typeof v === 'string' && v !== '';
    if (!c || !ok(c.accessKey) || !ok(c.secretKey) || !ok(c.token)) {
      throw new SsoGuardError(
        'upstream_error',
        'cloud credentials are incomplete (accessKey, secretKey and token are required)',
      );
    }
    return c;
  }

  private async attempt(
    action: string,
    method: CloudHttpMethod,
    params: Record<string, unknown>,
    creds: SsoCredentials,
    offsetOfCall: number | undefined,
  ): Promise<{ res: UpstreamResponse; signature: string; offset: number }> {
    const { origin, http, timeout, signatureVersion, clock, clockSkew } = this.config;
    const offset = offsetOfCall ?? clockSkew.offsetMs;
    const now = clock() + offset;
    const signed = signRequest(creds, { method, path: API_PATH, params: { action, ...params }, now, signatureVersion });
    const url = `${origin}${signed.path}`;
    const config: UpstreamRequest =
      method === 'GET'
        ? { method, url: `${url}?${signed.query}`, headers: { accept: 'application/json' } }
        : {
            method,
            url,
            data: signed.query,
            headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
          };
    try {
      const res = await send(http, config, timeout, `cloud API ${action}`);
      this.telemetry.httpStatus(res.status);
      debug('%s: HTTP %d', action, res.status);
      return { res, signature: signed.signature, offset };
    } catch (err) {
      // send() keeps only a scrubbed cause (no request config), so the error can be rethrown as is.
      if (err instanceof SsoGuardError) debug('%s: %s', action, err.code);
      throw err;
    }
  }
}

/** A body's non-zero `ret_code` (-1 when it is not an integer), by the one ret_code reading. */
function errorRetCode(body: Record<string, unknown>): number | undefined {
  const rc = retCode(body.ret_code);
  return rc === 'malformed' ? -1 : rc;
}

/** Why the API refused a call, when a retry can help: its clock disagrees, or the credentials are stale. */
function refusalOf(res: UpstreamResponse): 'clock_skew' | 'credentials' | undefined {
  if (res.status === 401) return 'credentials';
  let rc: number | undefined;
  try {
    rc = errorRetCode(parseJsonObject(res, 'cloud API'));
  } catch {
    return undefined; // not JSON: interpret() reports it
  }
  if (rc === RET_CODE_CLOCK_SKEW) return 'clock_skew';
  return rc !== undefined && AUTH_RET_CODES.has(rc) ? 'credentials' : undefined;
}

function interpret<T>(action: string, res: UpstreamResponse, redact: string[]): T {
  let body: Record<string, unknown>;
  try {
    body = parseJsonObject(res, `cloud API ${action}`);
  } catch (err) {
    // A 401 is the API refusing the credentials whatever its body says.
    if (res.status === 401)
      throw new CloudApiError(`${action} failed: HTTP 401: credentials refused after a refresh`, { httpStatus: 401 });
    throw err;
  }
  const rc = errorRetCode(body);
  if (rc !== undefined) {
    debug('%s: ret_code %d', action, rc);
    throw new CloudApiError(`${action} failed: ret_code ${rc}: ${scrub(body.message, redact)}`, {
      retCode: rc,
      httpStatus: res.status,
    });
  }
  if (res.status < 200 || res.status > 299) {
    debug('%s: HTTP %d without ret_code', action, res.status);
    throw new CloudApiError(`${action} failed: HTTP ${res.status}`, { httpStatus: res.status });
  }
  return body as T;
}

/** The API's message made safe for an error: no credential, no control characters, bounded. */
function scrub(message: unknown, redact: string[]): string {
  let s = typeof message === 'string' ? message : 'no message';
  for (const secret of redact) {
    for (const form of new Set([secret, encodeURIComponent(secret)])) s = s.split(form).join('[redacted]');
  }
  s = s.replace(/\p{Cc}+/gu, ' ').trim();
  return s.length > MAX_MESSAGE_CHARS ? `${s.slice(0, MAX_MESSAGE_CHARS)}…` : s;
}

/**
 * `new CloudClient()`'s options, with the same validators as `auth({ cloud })` (one rule per
 * option, messages from option-rules.ts). `http` defaults to a new keep-alive client.
 */
const CLIENT_OPTIONS = {
  apiBaseUrl: { required: true, check: httpOrigin },
  getCredentials: {
    required: true,
    check: fn<CloudClientOptions['getCredentials']>(
      'a function returning a Promise of { accessKey, secretKey, token }',
    ),
  },
  timeout: { default: 5000, unit: 'milliseconds', check: positiveInteger },
  signatureVersion: { default: 2, check: oneOf(1, 2) },
  zone: { check: zoneId },
  http: { check: axiosInstance },
  clock: { default: Date.now, check: fn<() => number>('a function returning ms since the epoch') },
  clockSkew: { check: instanceOf(CloudClockSkew, 'a CloudClockSkew') },
} as const satisfies OptionTable<CloudClientOptions>;

function resolveCloudOptions(opts: CloudClientOptions): Readonly<ResolvedCloudConfig> {
  const o = resolveOptions(CLIENT_OPTIONS, opts, {}, 'cloud');
  return Object.freeze({
    ...o,
    origin: o.apiBaseUrl,
    http: o.http ?? createHttpClient(),
    clockSkew: o.clockSkew ?? new CloudClockSkew(),
  });
}

/** The settings of {@link cloudClients}: a resolved client config without the credentials. */
export type CloudSettings = Omit<ResolvedCloudConfig, 'getCredentials'>;

/**
 * Clients that share settings validated once (one per `auth()` instance), each around one
 * request's credentials.
 */
export function cloudClients(
  settings: CloudSettings,
  telemetry?: Telemetry,
): (getCredentials: CloudClientOptions['getCredentials']) => CloudClient {
  const base = Object.freeze({ ...settings });
  return (getCredentials) =>
    new CloudClient(
      { [RESOLVED]: Object.freeze({ ...base, getCredentials }) } as unknown as CloudClientOptions,
      telemetry,
    );
}
