import type http from 'node:http';
import type { EmulatorErrorStyle, EmulatorRetCodeType } from './types';

/** Largest request body the emulator reads (bytes); a bigger one is answered 413. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * The `ret_code` values of `errorStyle: 'ret_code'` (HTTP 200 `{ret_code, message}`). Stable:
 * - 1100 invalid request: missing, repeated or malformed parameters, wrong content type,
 *   missing or malformed `Authorization: Bearer`, unsupported `grant_type` / `token_issuer`;
 * - 1200 invalid client: unknown `client_id` or wrong `client_secret`;
 * - 2100 invalid grant: authorization code or refresh token unknown, expired, used, revoked, or
 *   issued to another client / redirect URI / grant;
 * - 2200 invalid token: access token unknown, expired or revoked.
 */
export const EMULATOR_RET_CODES = Object.freeze({
  invalid_request: 1100,
  invalid_client: 1200,
  invalid_grant: 2100,
  invalid_token: 2200,
} as const);

/** OAuth error codes the emulator answers with. */
export type OAuthErrorCode =
  'invalid_request' | 'unsupported_grant_type' | 'invalid_client' | 'invalid_grant' | 'invalid_token';

/** A refused request; rendered as JSON (API endpoints) or an HTML page (sign-in endpoints). */
export class OAuthProblem extends Error {
  readonly error: OAuthErrorCode;

  constructor(error: OAuthErrorCode, message: string) {
    super(message);
    this.name = 'OAuthProblem';
    this.error = error;
  }

  /** HTTP status in the 'status' error style. */
  get status(): number {
    return this.error === 'invalid_client' || this.error === 'invalid_token' ? 401 : 400;
  }

  /** `ret_code` in the 'ret_code' error style. */
  get retCode(): number {
    return this.error === 'unsupported_grant_type'
      ? EMULATOR_RET_CODES.invalid_request
      : EMULATOR_RET_CODES[this.error];
  }
}

/**
 * Reads the body, up to `limit` bytes. Resolves `undefined` when it is bigger (the rest is
 * drained and discarded), rejects when the client goes away mid-body.
 */
export function readBody(req: http.IncomingMessage, limit: number = MAX_BODY_BYTES): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    let settled = false;
    const settle = (value: string | undefined, err?: Error): void => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve(value);
    };
    if (req.destroyed) {
      settle(undefined, new Error('request closed before its body ended'));
      return;
    }
    if (declared > limit) {
      req.resume();
      settle(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) settle(undefined);
      else chunks.push(chunk);
    });
    req.on('end', () => settle(Buffer.concat(chunks).toString('utf8')));
    req.on('error', (err) => settle(undefined, err));
    req.on('close', () => settle(undefined, new Error('request closed before its body ended')));
  });
}

/** Consumes and discards the body; resolves when it ended or the request closed. */
export function drainBody(req: http.IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    if (req.readableEnded || req.destroyed) return resolve();
    req.on('end', () => resolve());
    req.on('close', () => resolve());
    req.on('error', () => resolve());
    req.resume();
  });
}

/** Parses a query string or form body; a repeated name is refused (parameter pollution). */
export function parseParams(raw: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(raw)) {
    if (params.has(name)) throw new OAuthProblem('invalid_request', `parameter "${name.slice(0, 40)}" is repeated`);
    params.set(name, value);
  }
  return params;
}

/**
 * Parses a form body. A `Content-Type` other than `application/x-www-form-urlencoded` (UTF-8)
 * is refused; without one, only an empty body is accepted.
 */
export function parseForm(req: http.IncomingMessage, body: string): Map<string, string> {
  const contentType = req.headers['content-type'];
  if (contentType === undefined) {
    if (body.length > 0)
      throw new OAuthProblem('invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
    return new Map();
  }
  const [mediaType = '', ...parameters] = contentType.split(';').map((part) => part.trim().toLowerCase());
  const charset = parameters
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (
    mediaType !== 'application/x-www-form-urlencoded' ||
    (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
  ) {
    throw new OAuthProblem('invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
  }
  return parseParams(body);
}

/** The value of a required parameter; missing or empty is refused. */
export function requireParam(params: ReadonlyMap<string, string>, name: string): string {
  const value = params.get(name);
  if (value === undefined || value === '')
    throw new OAuthProblem('invalid_request', `missing required parameter "${name}"`);
  return value;
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The token of the one `Authorization: Bearer <token>` header; missing, repeated or malformed is refused. */
export function bearerToken(req: http.IncomingMessage): string {
  const count = req.rawHeaders.filter(
    (_, i) => i % 2 === 0 && req.rawHeaders[i]?.toLowerCase() === 'authorization',
  ).length;
  if (count === 0) throw new OAuthProblem('invalid_request', 'missing "Authorization: Bearer <access_token>" header');
  if (count > 1) throw new OAuthProblem('invalid_request', 'the Authorization header is repeated');
  const match = BEARER.exec(req.headers.authorization ?? '');
  if (!match?.[1])
    throw new OAuthProblem('invalid_request', 'malformed Authorization header; expected "Bearer <access_token>"');
  return match[1];
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/** Sends a body with an exact Content-Length and `Cache-Control: no-store`. */
export function send(
  res: http.ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: http.OutgoingHttpHeaders = {},
): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    ...NO_STORE,
    ...headers,
  });
  res.end(body);
}

/** Sends a JSON body. */
export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body), headers);
}

/** A `ret_code` as the configured JSON type writes it. */
export function retCodeValue(code: number | string, type: EmulatorRetCodeType): number | string {
  return type === 'string' ? String(code) : Number(code);
}

/** How `ret_code` is written: whether successes carry one, and as a number or a string. */
export interface RetCodeSettings {
  readonly retCodeOnSuccess: boolean;
  readonly retCodeType: EmulatorRetCodeType;
}

/** Sends a successful JSON answer, with `ret_code: 0` (or `"0"`) first when asked to. */
export function sendSuccess(res: http.ServerResponse, body: object, settings: RetCodeSettings): void {
  sendJson(res, 200, settings.retCodeOnSuccess ? { ret_code: retCodeValue(0, settings.retCodeType), ...body } : body);
}

/** Sends a refusal in the configured error style. */
export function sendProblem(
  res: http.ServerResponse,
  problem: OAuthProblem,
  style: EmulatorErrorStyle,
  retCodeType: EmulatorRetCodeType = 'number',
): void {
  if (style === 'ret_code') {
    sendJson(res, 200, { ret_code: retCodeValue(problem.retCode, retCodeType), message: problem.message });
    return;
  }
  const headers: http.OutgoingHttpHeaders =
    problem.error === 'invalid_token' ? { 'www-authenticate': `Bearer error="invalid_token"` } : {};
  sendJson(res, problem.status, { error: problem.error, error_description: problem.message }, headers);
}

/** Sends a redirect (302, or 303 after a form POST). */
export function redirect(res: http.ServerResponse, location: string, status: 302 | 303 = 302): void {
  res.writeHead(status, { location, 'content-length': 0, ...NO_STORE });
  res.end();
}
