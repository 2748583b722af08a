import http from 'node:http';
import { inspect } from 'node:util';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createHttpClient, MAX_UPSTREAM_BODY, send } from '../../lib/util/http';
import { NodeHttpClient } from '../../lib/util/node-http-client';
import { failure } from '../helpers/failure';

/** What the server saw of one request. */
interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  remotePort: number;
}

let server: http.Server;
let base: string;
let seen: Seen[];
let answer: (req: http.IncomingMessage, res: http.ServerResponse) => void;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body, remotePort: req.socket.remotePort! });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen = [];
  answer = (_req, res) => res.end('ok');
});

const get = (client: NodeHttpClient, path: string, timeoutMs = 2000) =>
  send(client, { method: 'GET', url: `${base}${path}` }, timeoutMs, 'test upstream');

describe('answers', () => {
  it.each([200, 401, 500])('returns HTTP %d as an answer with its text body', async (status) => {
    answer = (_req, res) => {
      res.statusCode = status;
      res.end(`{"status":${status}}`);
    };
    const res = await get(createHttpClient(), '/x');
    expect(res.status).toBe(status);
    expect(res.data).toBe(`{"status":${status}}`);
  });

  it('returns a 302 as it is, without following it', async () => {
    answer = (req, res) => {
      if (req.url === '/moved') {
        res.writeHead(302, { location: `${base}/target` }).end('moved');
      } else res.end('target');
    };
    const res = await get(createHttpClient(), '/moved');
    expect(res).toMatchObject({ status: 302, data: 'moved' });
    expect(res.headers.location).toBe(`${base}/target`);
    expect(seen.map((s) => s.url)).toEqual(['/moved']);
  });

  it('gives header names in lower case', async () => {
    answer = (_req, res) => {
      res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      res.setHeader('Date', 'Tue, 01 Jul 2025 00:00:00 GMT');
      res.end();
    };
    const res = await get(createHttpClient(), '/');
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(res.headers.date).toBe('Tue, 01 Jul 2025 00:00:00 GMT');
  });

  it('reads the body as UTF-8, a character split across chunks included', async () => {
    const bytes = Buffer.from('名前: ok', 'utf8');
    answer = (_req, res) => {
      res.write(bytes.subarray(0, 1));
      setTimeout(() => res.end(bytes.subarray(1)), 20);
    };
    expect((await get(createHttpClient(), '/')).data).toBe('名前: ok');
  });

  it.each<[string, (b: Buffer) => Buffer]>([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ])('decodes a %s answer sent although it was not asked for (as axios did)', async (encoding, encode) => {
    answer = (_req, res) => res.writeHead(200, { 'content-encoding': encoding }).end(encode(Buffer.from('{"a":"é"}')));
    expect((await get(createHttpClient(), '/')).data).toBe('{"a":"é"}');
  });

  it('drops a leading byte-order mark (as axios did)', async () => {
    answer = (_req, res) => res.end('\ufeff{"a":1}');
    expect((await get(createHttpClient(), '/')).data).toBe('{"a":1}');
  });

  it('sends a POST body with its byte length, the caller headers, and no accept-encoding', async () => {
    const data = 'grant_type=authorization_code&name=%E5%90%8D&note=é';
    await send(
      createHttpClient(),
      {
        method: 'POST',
        url: `${base}/sso/token/`,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        data,
      },
      2000,
      'test upstream',
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/sso/token/', body: data });
    expect(seen[0]!.headers['content-length']).toBe(String(Buffer.byteLength(data)));
    expect(seen[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(seen[0]!.headers.accept).toBe('application/json');
    expect(seen[0]!.headers['accept-encoding']).toBeUndefined();
    // A User-Agent, as axios sent one (some gateways refuse requests without it).
    expect(seen[0]!.headers['user-agent']).toBe('express-sso-guard');
  });

  it('reuses its keep-alive connection across calls', async () => {
    const client = createHttpClient();
    await get(client, '/one');
    await get(client, '/two');
    expect(seen).toHaveLength(2);
    expect(seen[0]!.headers.connection).toBe('keep-alive');
    expect(seen[1]!.remotePort).toBe(seen[0]!.remotePort);
  });
});

describe('failures', () => {
  it(`refuses a body over MAX_UPSTREAM_BODY (${MAX_UPSTREAM_BODY} bytes) as upstream_error`, async () => {
    const big = 'x'.repeat(300 * 1024);
    answer = (_req, res) => res.end(big); // with a content-length
    expect(await failure(get(createHttpClient(), '/'))).toMatchObject({
      code: 'upstream_error',
      status: 502,
      message: 'test upstream sent an unreadable answer',
    });
    answer = (_req, res) => {
      // chunked, no content-length: counted as it arrives
      for (let i = 0; i < 300; i++) res.write('x'.repeat(1024));
      res.end();
    };
    expect(await failure(get(createHttpClient(), '/'))).toMatchObject({ code: 'upstream_error' });
  });

  it('reads a body of exactly MAX_UPSTREAM_BODY bytes', async () => {
    answer = (_req, res) => res.end('y'.repeat(MAX_UPSTREAM_BODY));
    expect((await get(createHttpClient(), '/')).data).toHaveLength(MAX_UPSTREAM_BODY);
  });

  it('times out on a body dripping past the deadline (headers came in time)', async () => {
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      const drip = setInterval(() => res.write(' '), 50);
      const end = setTimeout(() => res.end('}'), 3000);
      res.on('close', () => {
        clearInterval(drip);
        clearTimeout(end);
      });
    };
    const started = Date.now();
    expect(await failure(get(createHttpClient(), '/', 300))).toMatchObject({ code: 'upstream_timeout', status: 504 });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('is upstream_unavailable on a closed port', async () => {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const err = await failure(send(createHttpClient(), { method: 'GET', url: `http://127.0.0.1:${port}/` }, 2000, 'x'));
    expect(err).toMatchObject({ code: 'upstream_unavailable', status: 503 });
  });

  it('is upstream_error when the connection closes mid-body', async () => {
    answer = (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => res.destroy(), 20);
    };
    expect(await failure(get(createHttpClient(), '/'))).toMatchObject({ code: 'upstream_error' });
  });

  it('is upstream_error for a body that does not decode, an encoding it cannot read, or a gzip bomb', async () => {
    answer = (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end('not gzip at all');
    expect(await failure(get(createHttpClient(), '/'))).toMatchObject({
      code: 'upstream_error',
      message: 'test upstream sent an unreadable answer',
    });
    answer = (_req, res) => res.writeHead(200, { 'content-encoding': 'compress' }).end('\x1f\x9d');
    expect(await failure(get(createHttpClient(), '/'))).toMatchObject({ code: 'upstream_error' });
    const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024)); // 16 MB of zeros in about 16 KB
    answer = (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(bomb);
    expect(await failure(get(createHttpClient(), '/'))).toMatchObject({ code: 'upstream_error' });
  });

  it('is upstream_error at once, not at the deadline, when the upstream switches protocols (101)', async () => {
    const raw = net.createServer((socket) => {
      socket.once('data', () =>
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n'),
      );
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = raw.address() as AddressInfo;
      const started = Date.now();
      const err = await failure(
        send(createHttpClient(), { method: 'GET', url: `http://127.0.0.1:${port}/` }, 5000, 'test upstream'),
      );
      expect(err).toMatchObject({ code: 'upstream_error', message: 'test upstream sent an unreadable answer' });
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      await new Promise((resolve) => raw.close(resolve));
    }
  });

  it('keeps working after a failure (a half-read socket is not reused)', async () => {
    const client = createHttpClient();
    answer = (_req, res) => res.end('z'.repeat(300 * 1024));
    await failure(get(client, '/big'));
    answer = (_req, res) => res.end('fine');
    expect((await get(client, '/small')).data).toBe('fine');
  });

  it('rejects an already aborted request without sending it', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      createHttpClient().request({ method: 'GET', url: base }, { signal: controller.signal, maxBody: 10 }),
    ).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect(seen).toHaveLength(0);
  });
});

describe('errors never carry the request', () => {
  const secrets = { query: 'QUERY-SECRET-1', header: 'HEADER-SECRET-2', body: 'BODY-SECRET-3' };
  const request = (url: string) =>
    send(
      createHttpClient(),
      {
        method: 'POST',
        url: `${url}/sso/token/?access_token=${secrets.query}`,
        headers: { authorization: `Bearer ${secrets.header}`, 'content-type': 'application/x-www-form-urlencoded' },
        data: `client_secret=${secrets.body}`,
      },
      300,
      'SSO token endpoint',
    );

  async function closedPort(): Promise<string> {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    return `http://127.0.0.1:${port}`;
  }

  it.each<[string, () => void, boolean]>([
    ['timeout', () => (answer = () => undefined), false],
    ['body too large', () => (answer = (_req, res) => res.end('x'.repeat(300 * 1024))), false],
    ['cut mid-body', () => (answer = (_req, res) => res.writeHead(200, { 'content-length': '9' }).destroy()), false],
    ['closed port', () => undefined, true],
  ])('%s', async (_kind, arrange, closed) => {
    arrange();
    const err = await failure(request(closed ? await closedPort() : base));
    const printed = [
      inspect(err, { depth: Infinity, showHidden: true }),
      inspect(err.cause, { depth: Infinity, showHidden: true }),
      JSON.stringify(err),
      JSON.stringify(err.cause),
      String(err.stack),
    ].join('\n');
    for (const secret of Object.values(secrets)) expect(printed).not.toContain(secret);
    expect(Object.keys(err.cause as object).sort()).toEqual(['code']);
  });
});
