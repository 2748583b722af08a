/**
 * Child processes of the bench: scenario servers (bench/server.mjs) and the load generator
 * (bench/load.mjs), both driven over IPC; plus the one-request validation of a scenario.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));

let nextId = 1;

/** Sends `msg` with a fresh id and resolves with the child's answer of the same id. */
export function ask(child, msg, timeoutMs = 120_000) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no answer to ${msg.type} within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m) => {
      if (m.id === id) done(undefined, m);
    };
    const onExit = (code) => done(new Error(`child exited (${code}) before answering ${msg.type}`));
    function done(err, m) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(m);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send({ ...msg, id });
  });
}

function waitReady(child, what) {
  return new Promise((resolve, reject) => {
    const onMessage = (m) => {
      if (m.type !== 'ready') return;
      child.off('exit', onExit);
      child.off('message', onMessage);
      resolve(m);
    };
    const onExit = (code) => reject(new Error(`${what} exited (${code}) before it was ready`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Forks a scenario server; resolves once it has signed in: `{ child, port, path, cookie }`. */
export async function startServer(id, execArgv = [], env = {}) {
  const child = fork(here('./server.mjs'), [id], {
    execArgv,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await waitReady(child, `server ${id}`);
  return { child, port: ready.port, path: ready.path, cookie: ready.cookie };
}

/** Stops a scenario server and waits for it to exit (and, under --cpu-prof, to write its profile). */
export function stopServer(server) {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null) return resolve();
    server.child.once('exit', () => resolve());
    server.child.send({ type: 'stop' });
  });
}

/**
 * The server's own CPU time (µs, user + system) and memory, as it reports them, and `heap`: bytes
 * allocated, scavenges, mark-compacts and GC µs since the previous `usage` of the same server.
 */
export async function usage(server) {
  const m = await ask(server.child, { type: 'usage' });
  return { cpuMicros: m.cpu.user + m.cpu.system, memory: m.memory, heap: m.heap };
}

/** Per-request figures of a measured window between two `usage` answers (`after.heap` covers it). */
export function perRequest(before, after, requests) {
  return {
    cpuPerRequest: (after.cpuMicros - before.cpuMicros) / requests,
    bytesPerRequest: after.heap.allocatedBytes / requests,
    gcMicrosPerRequest: after.heap.gcMicros / requests,
    scavenges: after.heap.scavenges,
    markCompacts: after.heap.markCompacts,
  };
}

/** Forks the identity provider of a scenario (bench/issuer.mjs): `{ url, close() }`. */
export async function startIssuer(kind) {
  const child = fork(here('./issuer.mjs'), [kind], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await waitReady(child, `issuer ${kind}`);
  return {
    url: ready.url,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send({ type: 'stop' });
      }),
  };
}

/** Forks the autocannon process. */
export async function startLoader() {
  const child = fork(here('./load.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await waitReady(child, 'load generator');
  return {
    async run(opts) {
      const m = await ask(child, { type: 'run', ...opts }, (opts.duration + 60) * 1000);
      if (m.error) throw new Error(m.error);
      return m.result;
    },
    stop() {
      child.send({ type: 'stop' });
    },
  };
}

/**
 * One request of a scenario, checked before it is loaded: 2xx with the expected user, and (for
 * the guarded ones) the same request without a cookie refused. Returns the cookie and Set-Cookie
 * sizes of the real request.
 */
export async function validate(scenario, server) {
  const base = `http://127.0.0.1:${server.port}`;
  const headers = server.cookie ? { cookie: server.cookie } : {};
  const res = await fetch(`${base}${server.path}`, { headers, redirect: 'manual' });
  const text = await res.text();
  if (res.status < 200 || res.status > 299)
    throw new Error(`${scenario.id}: GET ${server.path} answered ${res.status}: ${text.slice(0, 200)}`);
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${scenario.id}: GET ${server.path} answered non-JSON: ${text.slice(0, 200)}`);
  }
  if (body.user !== scenario.user)
    throw new Error(`${scenario.id}: expected user ${JSON.stringify(scenario.user)}, got ${text.slice(0, 200)}`);
  if (scenario.anonymous !== undefined) {
    const anon = await fetch(`${base}${server.path}`, {
      redirect: 'manual',
      headers: { accept: scenario.anonymousAccept ?? 'application/json' },
    });
    await anon.arrayBuffer();
    if (anon.status !== scenario.anonymous)
      throw new Error(`${scenario.id}: without a cookie expected ${scenario.anonymous}, got ${anon.status}`);
  }
  if (scenario.publicPath !== undefined) {
    const pub = await fetch(`${base}${scenario.publicPath}`, { redirect: 'manual' });
    const pubBody = await pub.text();
    if (pub.status !== 200 || JSON.parse(pubBody).user !== null)
      throw new Error(`${scenario.id}: public route answered ${pub.status} ${pubBody}`);
  }
  const setCookie = res.headers.getSetCookie();
  return {
    cookieBytes: server.cookie ? Buffer.byteLength(server.cookie) : 0,
    setCookieBytes: setCookie.reduce((n, l) => n + Buffer.byteLength(l), 0),
  };
}
