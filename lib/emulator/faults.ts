import http from 'node:http';
import { retCodeValue, send, sendJson, type RetCodeSettings } from './http';
import { ENDPOINTS } from './options';
import { isPlainObject, optionError, refuseUnknown } from '../option-rules';
import type { EmulatorEndpoint, Fault, FaultOptions } from './types';

/** Default size of a `huge` answer: 10 MB. */
export const DEFAULT_HUGE_BYTES = 10 * 1024 * 1024;

/** Plausible-looking answers lacking documented fields (`missingFields`). */
const PARTIAL_BODIES: Record<EmulatorEndpoint, Record<string, unknown>> = {
  authorize: {},
  token: { token_type: 'Bearer', expires_in: 3600 },
  check_token: { access_key: 'TMPAAAAAAAAAAAAAAAAA', user: {} },
  refresh_token: { token_type: 'Bearer', expires_in: 3600 },
  iam: {},
};

/** The beginning of a plausible answer, cut mid-value (`truncated`). */
const TRUNCATED_BODIES: Record<EmulatorEndpoint, string> = {
  authorize: '{"error":"temporarily_unava',
  token: '{"access_token":"q8Zb3kT1vW0',
  check_token: '{"access_key":"TMP4Q7Z2M9K1","secret_key":"x7Hc',
  refresh_token: '{"access_token":"Rr2pN8sL5e',
  iam: '{"ret_code":0,"action":"DescribeInst',
};

const GARBAGE_PAGE = `<!DOCTYPE html>
<html><head><title>Maintenance</title></head>
<body><h1>We'll be right back</h1><p>The service is under maintenance.</p></body></html>
`;

function statusPage(status: number): string {
  const reason = http.STATUS_CODES[status] ?? 'Error';
  return `<!DOCTYPE html>\n<html><head><title>${status} ${reason}</title></head>\n<body><h1>${status} ${reason}</h1><hr><p>nginx</p></body></html>\n`;
}

/** Writes `bytes` bytes of `{"filler":"xxx…"}` (or just `x`s when too small), honouring backpressure. */
function writeHuge(res: http.ServerResponse, bytes: number): void {
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': bytes,
    'cache-control': 'no-store',
  });
  const head = '{"filler":"';
  const tail = '"}';
  const framed = bytes >= head.length + tail.length;
  let fill = framed ? bytes - head.length - tail.length : bytes;
  const block = Buffer.alloc(64 * 1024, 'x');
  if (framed) res.write(head);
  const pump = (): void => {
    while (fill > 0) {
      if (res.destroyed) return; // the client gave up (e.g. its own size limit)
      const piece = fill >= block.length ? block : block.subarray(0, fill);
      fill -= piece.length;
      if (!res.write(piece)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end(framed ? tail : undefined);
  };
  pump();
}

/**
 * Answers a request with an injected fault (`slow` is handled by the caller, which answers
 * normally after the delay). The request body has been consumed already.
 */
export function answerWithFault(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  fault: Exclude<Fault, { type: 'slow' }>,
  endpoint: EmulatorEndpoint,
  settings: RetCodeSettings,
): void {
  switch (fault.type) {
    case 'reset':
      // A TCP RST: the client sees ECONNRESET (or "socket hang up"), never an HTTP answer.
      req.socket.resetAndDestroy();
      return;
    case 'hang':
      return; // the socket stays open until the client gives up or the emulator closes
    case 'status':
      send(res, fault.status, fault.contentType ?? 'text/html; charset=utf-8', fault.body ?? statusPage(fault.status));
      return;
    case 'garbage':
      send(res, 200, 'text/html; charset=utf-8', GARBAGE_PAGE);
      return;
    case 'truncated':
      send(res, 200, 'application/json; charset=utf-8', TRUNCATED_BODIES[endpoint]);
      return;
    case 'retCode':
      // A string retCode is sent as written; a number follows the retCodeType setting.
      sendJson(res, 200, {
        ret_code: typeof fault.retCode === 'string' ? fault.retCode : retCodeValue(fault.retCode, settings.retCodeType),
        message: fault.message ?? `emulated failure (ret_code ${fault.retCode})`,
      });
      return;
    case 'oauthError': {
      const status = fault.status ?? (fault.error === 'invalid_token' || fault.error === 'invalid_client' ? 401 : 400);
      const headers: http.OutgoingHttpHeaders =
        fault.error === 'invalid_token' ? { 'www-authenticate': 'Bearer error="invalid_token"' } : {};
      sendJson(
        res,
        status,
        { error: fault.error, error_description: fault.description ?? `emulated ${fault.error}` },
        headers,
      );
      return;
    }
    case 'missingFields':
      sendJson(
        res,
        200,
        settings.retCodeOnSuccess
          ? { ret_code: retCodeValue(0, settings.retCodeType), ...PARTIAL_BODIES[endpoint] }
          : PARTIAL_BODIES[endpoint],
      );
      return;
    case 'huge':
      writeHuge(res, fault.bytes ?? DEFAULT_HUGE_BYTES);
      return;
    case 'custom':
      send(res, fault.status, fault.contentType ?? 'application/json; charset=utf-8', fault.body);
      return;
  }
}

/** Validates a fault and its options; returns the number of calls it applies to (`undefined`: until cleared). */
export function validateFault(endpoint: unknown, fault: unknown, opts: FaultOptions | undefined): number | undefined {
  if (!ENDPOINTS.includes(endpoint as EmulatorEndpoint))
    throw optionError('endpoint', `one of ${ENDPOINTS.map((e) => `"${e}"`).join(', ')}`, endpoint);
  if (opts !== undefined) {
    if (!isPlainObject(opts)) throw optionError('opts', 'an object { times? }', opts);
    refuseUnknown(opts, ['times']);
  }
  const times = opts?.times;
  if (times !== undefined && (typeof times !== 'number' || !Number.isInteger(times) || times < 1))
    throw optionError('times', 'a positive integer', times);
  if (fault === null) return times;
  if (!isPlainObject(fault)) throw optionError('fault', 'a fault object such as { type: "reset" }, or null', fault);
  const f = fault as Fault;
  const status = (value: unknown): void => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 200 || value > 599)
      throw optionError('fault.status', 'an integer from 200 to 599', value);
  };
  const optionalString = (name: string, value: unknown, headerSafe: boolean): void => {
    if (value !== undefined && (typeof value !== 'string' || (headerSafe && /[\r\n]/.test(value))))
      throw optionError(name, headerSafe ? 'a string without line breaks' : 'a string', value);
  };
  switch (f.type) {
    case 'reset':
    case 'hang':
    case 'garbage':
    case 'truncated':
    case 'missingFields':
      break;
    case 'slow':
      if (typeof f.delayMs !== 'number' || !Number.isFinite(f.delayMs) || f.delayMs < 0)
        throw optionError('fault.delayMs', 'a non-negative number of milliseconds', f.delayMs);
      break;
    case 'status':
      status(f.status);
      optionalString('fault.body', f.body, false);
      optionalString('fault.contentType', f.contentType, true);
      break;
    case 'custom':
      status(f.status);
      if (typeof f.body !== 'string') throw optionError('fault.body', 'a string', f.body);
      optionalString('fault.contentType', f.contentType, true);
      break;
    case 'retCode': {
      const rc: unknown = f.retCode;
      const integer =
        (typeof rc === 'number' && Number.isInteger(rc)) || (typeof rc === 'string' && /^-?\d{1,9}$/.test(rc));
      if (!integer || Number(rc) === 0)
        throw optionError('fault.retCode', 'a non-zero integer, or one written as a string ("5100")', rc);
      optionalString('fault.message', f.message, false);
      break;
    }
    case 'oauthError':
      if (typeof f.error !== 'string' || !/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/.test(f.error))
        throw optionError('fault.error', 'an OAuth error code such as "invalid_grant"', f.error);
      if (f.status !== undefined) status(f.status);
      optionalString('fault.description', f.description, false);
      break;
    case 'huge':
      if (
        f.bytes !== undefined &&
        (typeof f.bytes !== 'number' || !Number.isInteger(f.bytes) || f.bytes < 1 || f.bytes > 2 ** 30)
      ) {
        throw optionError('fault.bytes', 'an integer from 1 to 2^30', f.bytes);
      }
      break;
    default:
      throw optionError(
        'fault.type',
        '"reset", "hang", "slow", "status", "garbage", "truncated", "retCode", "oauthError", "missingFields", "huge" or "custom"',
        (f as { type?: unknown }).type,
      );
  }
  return times;
}
