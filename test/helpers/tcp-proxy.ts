import net from 'node:net';

/**
 * A TCP proxy in front of a server, that a test can cut (really unreachable) and restore, or
 * stall (every byte held for a while, then delivered: a slow link, not a lost one).
 */
export interface TcpProxy {
  /** `host:port` of the proxy (127.0.0.1, port chosen by the OS). */
  readonly port: number;
  readonly url: string;
  /** Destroys every open connection and refuses new ones until `restore()`. */
  cut(): void;
  /** Accepts connections again. */
  restore(): void;
  /**
   * Holds every byte (both directions, every connection) for `ms` before forwarding it, in
   * order; `stall(0)` ends the stall (bytes still held are delivered first, never reordered).
   */
  stall(ms: number): void;
  close(): Promise<void>;
}

/** Forwards `from` to `to`, each chunk held for the stall in force when it arrived, in order. */
function forward(from: net.Socket, to: net.Socket, stallMs: () => number): void {
  let chain = Promise.resolve();
  from.on('data', (chunk: Buffer) => {
    const at = Date.now() + stallMs();
    chain = chain.then(async () => {
      const wait = at - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!to.destroyed) to.write(chunk);
    });
  });
}

/** Starts a proxy on 127.0.0.1:0 forwarding every connection to `target` (`host:port`). */
export async function startTcpProxy(target: { host: string; port: number }, scheme = 'redis'): Promise<TcpProxy> {
  let open = true;
  let stallMs = 0;
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const server = net.createServer((client) => {
    track(client);
    // Refused: the client sees its connection reset at once, as with a host that is down.
    if (!open) return client.resetAndDestroy();
    const upstream = net.connect(target);
    track(upstream);
    forward(client, upstream, () => stallMs);
    forward(upstream, client, () => stallMs);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      open = true;
    },
    stall(ms) {
      stallMs = ms;
    },
    close() {
      open = false;
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
