import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { computeSignature, formatTimestamp, stringToSign } from '../cloud/signer';
import { oneOf, optionError } from '../option-rules';

/** What the emulator knows about an access key issued with temporary (STS) credentials. */
export interface EmulatedAccessKey {
  /** The secret key the request must be signed with. */
  secretKey: string;
  /** The STS token issued with this key; requests must carry exactly this `token`. */
  token: string;
  /** When the STS token expires (ms since the epoch); at or after it calls answer HTTP 401. */
  expiresAt: number;
  /** The user `DescribeUsers` returns. */
  user: { user_id: string; [k: string]: unknown };
}

/** Options of {@link createCloudApiHandler}. */
export interface CloudApiEmulatorOptions {
  /** Resolves an `access_key_id`; `undefined` for an unknown key (answered with ret_code 1200). */
  lookupAccessKey: (accessKey: string) => EmulatedAccessKey | undefined;
  /** Current time in ms; default `Date.now`. Drives `time_stamp` skew and token expiry. */
  clock?: () => number;
  /** The fixed list `DescribeInstances` filters and returns. Default: three demo instances. */
  instances?: Array<Record<string, unknown>>;
  /**
   * The API host's own clock, in ms ahead (+) or behind (−) `clock`. `time_stamp` is judged by
   * it and every answer's `Date` header shows it, as a real host with a drifting clock would.
   * STS token expiry still follows `clock` (the SSO's time). Default 0.
   */
  clockOffset?: number;
  /**
   * How a call signed with an expired STS token is answered: `'status'` (default: HTTP 401 with
   * ret_code 1200), or HTTP 200 with ret_code `1200` (authentication failed) or `2000` (session
   * expired), the way the API reports errors in a 200.
   */
  expiredToken?: 'status' | 1200 | 2000;
}

/** Handles one request to the emulated cloud API; `body` is the request body already read. */
export type CloudApiHandler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** ret_codes the emulator answers with (a subset of the real API's). */
export const CLOUD_RET_CODES = Object.freeze({
  ok: 0,
  /** Malformed request: wrong method or content type, duplicated or missing parameters. */
  badRequest: 1100,
  /** Unknown access key, wrong token, bad signature. */
  authFailed: 1200,
  /** `time_stamp` missing, malformed or more than {@link MAX_CLOCK_SKEW_MS} off. */
  expired: 1300,
  permissionDenied: 1400,
  /** Session expired (answered for an expired STS token with `expiredToken: 2000`). */
  sessionExpired: 2000,
  internal: 5000,
});

/** How far `time_stamp` may be from the emulator's clock (ms); farther answers ret_code 1300. */
export const MAX_CLOCK_SKEW_MS = 60_000;

const DEMO_INSTANCES: ReadonlyArray<Record<string, unknown>> = Object.freeze([
  {
    instance_id: 'i-demo0001',
    instance_name: 'web-1',
    status: 'running',
    zone: 'pek3',
    instance_type: 'c1m1',
    create_time: '2024-01-15T08:00:00Z',
  },
  {
    instance_id: 'i-demo0002',
    instance_name: 'web-2',
    status: 'stopped',
    zone: 'pek3',
    instance_type: 'c1m1',
    create_time: '2024-01-15T08:05:00Z',
  },
  {
    instance_id: 'i-demo0003',
    instance_name: 'db-1',
    status: 'running',
    zone: 'sh1a',
    instance_type: 'c2m4',
    create_time: '2024-02-01T10:00:00Z',
  },
]);

/**
 * The string a well-behaved client signs for the request the emulator received: `METHOD`, the
 * path exactly as received, and the canonical query of every parameter except `signature`.
 * Exported so tests can build or inspect requests without re-implementing the signer.
 */
export function expectedStringToSign(method: string, path: string, params: Record<string, string>): string {
  return stringToSign(method, path, withoutSignature(params));
}

/** The Base64 signature the emulator expects for a request (see {@link expectedStringToSign}). */
export function expectedSignature(
  secretKey: string,
  method: string,
  path: string,
  params: Record<string, string>,
): string {
  return computeSignature(secretKey, method, path, withoutSignature(params));
}

function withoutSignature(params: Record<string, string>): Record<string, string> {
  const { signature: _signature, ...rest } = params;
  return rest;
}

/** An answer: HTTP status and JSON body. */
interface Answer {
  status: number;
  body: Record<string, unknown>;
}

const fail = (ret_code: number, message: string, status = 200): Answer => ({ status, body: { ret_code, message } });

/**
 * Creates the emulated cloud API: verifies access key, STS token, token expiry, `time_stamp` and
 * signature like the real API, then answers `DescribeUsers` and `DescribeInstances`; any other
 * action is denied (1400). The path is signed as received, so it works mounted anywhere.
 */
export function createCloudApiHandler(opts: CloudApiEmulatorOptions): CloudApiHandler {
  if (typeof opts?.lookupAccessKey !== 'function')
    throw optionError('lookupAccessKey', 'a function', opts?.lookupAccessKey);
  const clockOffset = opts.clockOffset ?? 0;
  if (typeof clockOffset !== 'number' || !Number.isFinite(clockOffset))
    throw optionError('clockOffset', 'a finite number of milliseconds', clockOffset);
  const expiredToken = oneOf('status', 1200, 2000)(opts.expiredToken ?? 'status', { name: 'expiredToken' });
  const clock = opts.clock ?? Date.now;
  /** The API host's time: what `time_stamp` is compared with and the `Date` header says. */
  const hostClock = (): number => clock() + clockOffset;
  const instances = (opts.instances ?? DEMO_INSTANCES).map((i) => ({ ...i }));

  return function cloudApiHandler(req, res, body) {
    let answer: Answer;
    try {
      answer = handle(req, body);
    } catch {
      // A throwing lookup is the test's bug; answer like the API's internal error rather than hang.
      answer = fail(CLOUD_RET_CODES.internal, 'internal error', 500);
    }
    const json = JSON.stringify(answer.body);
    // Explicit, so the header follows the emulated host clock rather than Node's wall clock.
    res.writeHead(answer.status, {
      date: new Date(hostClock()).toUTCString(),
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(json),
      'cache-control': 'no-store',
    });
    res.end(json);
  };

  function handle(req: IncomingMessage, body: string): Answer {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const rawQuery = q === -1 ? '' : url.slice(q + 1);

    let raw: string;
    if (method === 'GET') {
      raw = rawQuery;
    } else if (method === 'POST') {
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/x-www-form-urlencoded')
        return fail(CLOUD_RET_CODES.badRequest, 'POST body must be application/x-www-form-urlencoded');
      // Parameters in two places would make "what was signed" ambiguous.
      if (rawQuery !== '') return fail(CLOUD_RET_CODES.badRequest, 'POST parameters belong in the body, not the URL');
      raw = body;
    } else {
      return fail(CLOUD_RET_CODES.badRequest, `method ${method} not allowed`, 405);
    }

    const params: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [k, v] of new URLSearchParams(raw)) {
      if (Object.prototype.hasOwnProperty.call(params, k))
        return fail(CLOUD_RET_CODES.badRequest, `parameter ${k} is repeated`);
      params[k] = v;
    }
    const auth = authenticate(method, path, params);
    return 'status' in auth ? auth : dispatch(params, auth.user);
  }

  /** The user behind a correctly signed request, or the answer refusing it. */
  function authenticate(
    method: string,
    path: string,
    params: Record<string, string>,
  ): { user: EmulatedAccessKey['user'] } | Answer {
    const { signature, access_key_id: accessKey, token } = params;
    if (!signature) return fail(CLOUD_RET_CODES.authFailed, 'signature is required');
    const key = accessKey ? opts.lookupAccessKey(accessKey) : undefined;
    if (!key) return fail(CLOUD_RET_CODES.authFailed, 'access key not found');
    if (token === undefined || !equal(token, key.token)) return fail(CLOUD_RET_CODES.authFailed, 'invalid token');
    if (key.expiresAt <= clock()) return expired();
    const ts = parseTimestamp(params.time_stamp);
    if (ts === undefined) return fail(CLOUD_RET_CODES.expired, 'time_stamp is missing or malformed');
    if (Math.abs(ts - hostClock()) > MAX_CLOCK_SKEW_MS)
      return fail(CLOUD_RET_CODES.expired, 'time_stamp is too far from server time');
    if (params.signature_method !== 'HmacSHA256')
      return fail(CLOUD_RET_CODES.authFailed, 'unsupported signature_method');
    if (params.signature_version !== '1' && params.signature_version !== '2')
      return fail(CLOUD_RET_CODES.authFailed, 'unsupported signature_version');
    if (!equal(signature, expectedSignature(key.secretKey, method, path, params)))
      return fail(CLOUD_RET_CODES.authFailed, 'signature mismatch');
    return { user: key.user };
  }

  function expired(): Answer {
    if (expiredToken === 'status') return fail(CLOUD_RET_CODES.authFailed, 'token expired', 401);
    return expiredToken === 2000
      ? fail(CLOUD_RET_CODES.sessionExpired, 'session expired')
      : fail(CLOUD_RET_CODES.authFailed, 'token expired');
  }

  function dispatch(params: Record<string, string>, user: EmulatedAccessKey['user']): Answer {
    switch (params.action) {
      case 'DescribeUsers':
        return {
          status: 200,
          body: { ret_code: 0, action: 'DescribeUsersResponse', user_set: [user], total_count: 1 },
        };
      case 'DescribeInstances': {
        const statuses = listParam(params, 'status');
        const zone = params.zone;
        const set = instances.filter(
          (i) =>
            (statuses.length === 0 || statuses.includes(String(i.status))) && (zone === undefined || i.zone === zone),
        );
        return {
          status: 200,
          body: { ret_code: 0, action: 'DescribeInstancesResponse', instance_set: set, total_count: set.length },
        };
      }
      default:
        return fail(CLOUD_RET_CODES.permissionDenied, 'permission denied');
    }
  }
}

/** `name.1`, `name.2`, … in order, stopping at the first gap like the real API. */
function listParam(params: Record<string, string>, name: string): string[] {
  const out: string[] = [];
  for (let n = 1; params[`${name}.${n}`] !== undefined; n++) out.push(params[`${name}.${n}`] as string);
  return out;
}

/** Epoch ms of a strict `YYYY-MM-DDThh:mm:ssZ`, or undefined (also for impossible dates like Feb 31). */
function parseTimestamp(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) || formatTimestamp(ms) !== value ? undefined : ms;
}

/** Constant-time string comparison (the length of a Base64 HMAC or a token is not secret). */
function equal(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
