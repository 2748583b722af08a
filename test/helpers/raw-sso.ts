import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request the raw server received, body included. */
export interface RawRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** What the raw server does with a request: any answer, or a transport-level misbehaviour. */
export type RawAnswer =
  | {
      kind: 'http';
      status: number;
      body?: string | Buffer;
      contentType?: string | null;
      headers?: Record<string, string>;
    }
  /** TCP reset before any byte of the answer. */
  | { kind: 'reset' }
  /** Never answers. */
  | { kind: 'hang' }
  /** Headers at once, then the body one chunk every `everyMs` (never done before the deadline). */
  | { kind: 'drip'; everyMs: number }
  /** Headers and half the body announced by Content-Length, then the socket is destroyed. */
  | { kind: 'cut'; body: string };

/**
 * A bare node:http server standing in for the SSO, answering whatever a test asks for, including
 * answers the emulator would never give (bad status lines aside). Records every request.
 */
export interface RawSso {
  readonly url: string;
  readonly requests: RawRequest[];
  /** Sets the answer for every following request (by request). */
  respond(answer: (req: RawRequest) => RawAnswer): void;
  close(): Promise<void>;
}

export async function startRawSso(): Promise<RawSso> {
  let answer: (req: RawRequest) => RawAnswer = () => ({
    kind: 'http',
    status: 500,
    body: 'no answer configured',
    contentType: 'text/plain',
  });
  const requests: RawRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded: RawRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      const a = answer(recorded);
      switch (a.kind) {
        case 'reset':
          req.socket.resetAndDestroy();
          return;
        case 'hang':
          return;
        case 'drip': {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"access_token":"');
          const timer = setInterval(() => {
            if (res.destroyed) {
              clearInterval(timer);
              timers.delete(timer);
            } else res.write('x');
          }, a.everyMs);
          timers.add(timer);
          return;
        }
        case 'cut': {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(a.body) });
          res.write(a.body.slice(0, Math.floor(a.body.length / 2)));
          setTimeout(() => res.destroy(), 5);
          return;
        }
        case 'http': {
          const headers: Record<string, string | number> = { ...a.headers };
          if (a.contentType !== null) headers['content-type'] = a.contentType ?? 'application/json';
          const body = a.body ?? '';
          headers['content-length'] = Buffer.byteLength(body);
          res.writeHead(a.status, headers);
          res.end(body);
        }
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respond(fn) {
      answer = fn;
    },
    close() {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
