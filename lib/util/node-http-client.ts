import http from 'node:http';
import https from 'node:https';
import type { Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';

/** One upstream request, as the SSO and cloud clients describe it (an axios request config fits too). */
export interface UpstreamRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Readonly<Record<string, string>>;
  /** A text body (a form), sent as UTF-8 with its `content-length`. */
  data?: string;
}

/** One upstream answer: what the SSO and cloud clients read of it (an axios response fits too). */
export interface UpstreamResponse {
  status: number;
  /** The body as text. */
  data: string;
  /** Header names in lower case. */
  headers: Readonly<Record<string, unknown>>;
}

/** How {@link NodeHttpClient.request} bounds a request: the caller's deadline and the body size. */
export interface RequestLimits {
  /** Aborting it abandons the request at any stage (connect, headers, body). */
  signal: AbortSignal;
  /** Largest body read, in bytes; a bigger one fails the request. */
  maxBody: number;
}

/**
 * The package's default upstream client, on `node:http`/`node:https` (loading axios for these
 * calls would grow every app's heap, and so every GC marking phase, for nothing): keep-alive, no
 * proxy, no redirects (a 3xx is an answer like any other), every status an answer, the body read
 * as UTF-8 text (gzip, deflate and br decoded). Fails with an error carrying a `code` and a
 * message, never the request: Node's own code (`ECONNREFUSED`, ...), `ABORT_ERR` for an aborted
 * request, `ERR_BODY_TOO_LARGE`, `ERR_INCOMPLETE_BODY`, `ERR_NO_RESPONSE`, `ERR_CONTENT_ENCODING` (one it cannot
 * decode) or `ERR_BAD_ENCODING` (a body that does not decode).
 */
export class NodeHttpClient {
  // One agent per scheme and client, as axios had: sockets are reused only within one client.
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent = new https.Agent({ keepAlive: true });

  request(config: UpstreamRequest, limits: RequestLimits): Promise<UpstreamResponse> {
    const { signal, maxBody } = limits;
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(failure('ABORT_ERR', 'request aborted'));
        return;
      }
      let target: URL;
      try {
        target = new URL(config.url);
      } catch {
        // Not the URL's own error: that one carries the URL (and its query) as `input`.
        reject(failure('ERR_INVALID_URL', 'invalid upstream URL'));
        return;
      }
      const secure = target.protocol === 'https:';
      if (!secure && target.protocol !== 'http:') {
        reject(failure('ERR_INVALID_URL', 'upstream URL is not http(s)'));
        return;
      }
      // No accept-encoding: servers answer as identity. Some compress anyway, which axios (the
      // client before this one) read, so gzip, deflate and br are decoded all the same.
      const headers: Record<string, string | number> = {};
      for (const [name, value] of Object.entries(config.headers ?? {})) headers[name.toLowerCase()] = value;
      if (config.data !== undefined) headers['content-length'] = Buffer.byteLength(config.data);
      // Some gateways refuse requests without one (axios sent its own).
      headers['user-agent'] ??= 'express-sso-guard';

      const req = (secure ? https : http).request(target, {
        method: config.method,
        headers,
        agent: secure ? this.httpsAgent : this.httpAgent,
      });
      let decoder: Transform | undefined;
      let settled = false;
      const settle = (err: Error | undefined, res?: UpstreamResponse): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        if (err === undefined) {
          resolve(res!);
        } else {
          // The socket is not reused: a half-read answer would be read as the next one's start.
          req.destroy();
          decoder?.destroy();
          reject(err);
        }
      };
      const onAbort = (): void => settle(failure('ABORT_ERR', 'request aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      const tooLarge = (): void => settle(failure('ERR_BODY_TOO_LARGE', `upstream body exceeds ${maxBody} bytes`));

      req.on('error', (err) => settle(err));
      // Closed with no answer and no error: Node drops a 101 (Switching Protocols) that way.
      // Unreadable now, rather than a wait for the deadline.
      let answered = false;
      req.on('close', () => {
        if (!answered) settle(failure('ERR_NO_RESPONSE', 'upstream closed the connection without an answer'));
      });
      req.on('response', (res) => {
        answered = true;
        if (Number(res.headers['content-length']) > maxBody) {
          tooLarge();
          return;
        }
        const encoding = res.statusCode === 204 ? undefined : res.headers['content-encoding'];
        const decoding = encoding === undefined ? undefined : decoderFor(encoding);
        if (decoding === null) {
          settle(failure('ERR_CONTENT_ENCODING', `upstream answered with content-encoding ${encoding}`));
          return;
        }
        decoder = decoding;
        // The connection closed mid-body: a cut answer, unreadable (as axios's "stream has been
        // aborted"), not an unreachable server.
        const cut = (): void => settle(failure('ERR_INCOMPLETE_BODY', 'upstream closed the connection mid-answer'));
        res.on('error', cut);
        res.on('close', () => {
          if (!res.complete) cut();
        });
        let body: Readable = res;
        if (decoder !== undefined) {
          // Both sizes are bounded: the bytes received, and what they inflate to (a gzip bomb
          // stops at maxBody, not in memory).
          let received = 0;
          res.on('data', (chunk: Buffer) => {
            received += chunk.length;
            if (received > maxBody) tooLarge();
          });
          decoder.on('error', () => settle(failure('ERR_BAD_ENCODING', `upstream body is not valid ${encoding}`)));
          body = res.pipe(decoder);
        }
        const chunks: Buffer[] = [];
        let size = 0;
        body.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBody) tooLarge();
          else chunks.push(chunk);
        });
        body.on('end', () =>
          settle(undefined, { status: res.statusCode ?? 0, data: utf8Text(chunks), headers: res.headers }),
        );
      });
      req.end(config.data);
    });
  }
}

// Flushed as axios did, so that a body cut short of its trailer reads as far as it goes.
const ZLIB = { flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH };
const BROTLI = {
  flush: zlib.constants.BROTLI_OPERATION_FLUSH,
  finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
};

/** The decoder of a content-encoding: none for identity, `null` for one this client cannot read. */
function decoderFor(encoding: string): Transform | undefined | null {
  switch (encoding.trim().toLowerCase()) {
    case '':
    case 'identity':
      return undefined;
    case 'gzip':
    case 'x-gzip':
    case 'deflate':
      return zlib.createUnzip(ZLIB); // gzip or zlib-wrapped deflate, told apart by their header
    case 'br':
      return zlib.createBrotliDecompress(BROTLI);
    default:
      return null;
  }
}

/** The body as text, without the byte-order mark some servers put first (axios dropped it too). */
function utf8Text(chunks: Buffer[]): string {
  const text = Buffer.concat(chunks).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function failure(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}
