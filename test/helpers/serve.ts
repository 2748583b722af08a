import http from 'node:http';
import net from 'node:net';
import vm from 'node:vm';
import type { AddressInfo, Socket } from 'node:net';

/** A response read in full. */
export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Set-Cookie lines (always an array). */
  setCookie: string[];
}

/** An app listening on 127.0.0.1:0, with a keep-alive client for many fast requests. */
export interface Served {
  readonly url: string;
  readonly port: number;
  /**
   * Sends a request. `path` is the raw request target and header values are sent as given
   * (latin1), so tests can send what a browser or an attacker would, not only what fetch allows.
   */
  request(method: string, path: string, headers?: Record<string, string>): Promise<Answer>;
  get(path: string, headers?: Record<string, string>): Promise<Answer>;
  close(): Promise<void>;
}

export async function serve(handler: http.RequestListener): Promise<Served> {
  const server = http.createServer(handler);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const request = (method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const sc = res.headers['set-cookie'];
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            setCookie: sc ?? [],
          });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    request,
    get: (path, headers) => request('GET', path, headers),
    close() {
      agent.destroy();
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Sends raw bytes as one HTTP/1.1 request on a fresh connection and returns the status line's
 * code (0 when the server closed without answering). For header bytes no HTTP client will send.
 */
export function rawRequest(port: number, head: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(head));
    let data = '';
    socket.on('data', (c: Buffer) => {
      data += c.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
    socket.setTimeout(5000, () => socket.destroy());
  });
}

/**
 * Collects unhandled promise rejections of the whole process while the tests of the calling file
 * run, and fails the test during which one appeared. (Jest's sandbox `process` is a copy whose
 * listeners never fire; the real one is reached through the main context.)
 */
export function trackUnhandledRejections(): unknown[] {
  const real = vm.runInThisContext('process') as NodeJS.Process;
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => {
    seen.push(reason);
  };
  beforeAll(() => {
    real.on('unhandledRejection', listener);
  });
  afterEach(async () => {
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([]);
  });
  afterAll(() => {
    real.off('unhandledRejection', listener);
  });
  return seen;
}
