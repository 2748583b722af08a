/**
 * Stable error codes. Callers switch on `err.code`; the messages may change between versions,
 * the codes do not.
 */
export type SsoGuardErrorCode =
  /** An option passed to `auth()` (or another factory) is missing or malformed. */
  | 'invalid_option'
  /** The request carries no valid session (HTTP 401). */
  | 'unauthenticated'
  /** The `/callback` request is malformed: repeated, oversized or missing parameters (HTTP 400). */
  | 'invalid_request'
  /** The `/callback` state is missing, unknown, forged, expired or already used (HTTP 400). */
  | 'invalid_state'
  /** The SSO redirected back with `error=…`, e.g. the user cancelled (HTTP 400). */
  | 'access_denied'
  /** The SSO refused the authorization code (HTTP 400). */
  | 'code_rejected'
  /** The `authorize` option refused this user (HTTP 403). */
  | 'forbidden'
  /** A request from another site that may not act on the session, e.g. a cross-site logout (HTTP 403). */
  | 'cross_site_request'
  /** The SSO refused the refresh token: the session is over (HTTP 401). */
  | 'refresh_rejected'
  /** The SSO answered with something that is not a valid answer (HTTP 502). */
  | 'upstream_error'
  /** The SSO (or the cloud API) could not be reached (HTTP 503). */
  | 'upstream_unavailable'
  /** The SSO (or the cloud API) did not answer within the configured timeout (HTTP 504). */
  | 'upstream_timeout'
  /** The cloud API answered with a non-zero `ret_code` or an error status. */
  | 'cloud_api_error';

const DEFAULT_STATUS: Record<SsoGuardErrorCode, number> = {
  invalid_option: 500,
  unauthenticated: 401,
  invalid_request: 400,
  invalid_state: 400,
  access_denied: 400,
  code_rejected: 400,
  forbidden: 403,
  cross_site_request: 403,
  refresh_rejected: 401,
  upstream_error: 502,
  upstream_unavailable: 503,
  upstream_timeout: 504,
  cloud_api_error: 502,
};

/**
 * The brand every SsoGuardError carries, shared through the global symbol registry: the CJS and
 * ESM builds are two copies of this class, and `instanceof` fails across them; the brand does not.
 */
const BRAND = Symbol.for('express-sso-guard.error');

/** Options of {@link SsoGuardError}. */
export interface SsoGuardErrorOptions {
  /** HTTP status to answer with; defaults to the status of the code. */
  status?: number;
  /** The underlying error, kept for debugging. Never rendered to clients. */
  cause?: unknown;
}

/**
 * The one error class of express-sso-guard. `code` is stable, `status` is the HTTP status the
 * middleware answers with, and `message` is short and never contains a token, key or secret.
 */
export class SsoGuardError extends Error {
  readonly code: SsoGuardErrorCode;
  readonly status: number;
  /** Alias of `status`, the name Express's default error handler reads. */
  get statusCode(): number {
    return this.status;
  }

  constructor(code: SsoGuardErrorCode, message: string, options: SsoGuardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status ?? DEFAULT_STATUS[code];
  }

  /** The cross-copy brand, read by {@link isSsoGuardError}. */
  get [BRAND](): true {
    return true;
  }
}

/** Options of {@link CloudApiError}. */
export interface CloudApiErrorOptions extends SsoGuardErrorOptions {
  /** The API's `ret_code` (1200 bad signature, 1300 clock skew, 1400 permission denied, …). */
  retCode?: number;
  /** The HTTP status the API answered with. */
  httpStatus?: number;
}

/**
 * A failed cloud API call made through `req.sso.cloud`. Carries the API's `ret_code` and
 * `message`; never the secret key, the STS token or the signature.
 */
export class CloudApiError extends SsoGuardError {
  readonly retCode: number | undefined;
  readonly httpStatus: number | undefined;

  constructor(message: string, options: CloudApiErrorOptions = {}) {
    super('cloud_api_error', message, options);
    this.retCode = options.retCode;
    this.httpStatus = options.httpStatus;
  }
}

/**
 * True when `err` is an {@link SsoGuardError} or a {@link CloudApiError}, also one thrown by
 * another copy of the package (the CommonJS and the ESM build loaded side by side).
 */
export function isSsoGuardError(err: unknown): err is SsoGuardError {
  return (
    err instanceof SsoGuardError || (err instanceof Error && (err as Error & { [BRAND]?: unknown })[BRAND] === true)
  );
}
