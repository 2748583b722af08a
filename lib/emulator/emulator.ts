import { createCloudApiHandler } from './cloud-api';
import { handleConsole, handleConsoleLaunch } from './console';
import { sendSpiCall } from './spi-client';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { answerWithFault, validateFault } from './faults';
import {
  handleApprove,
  handleAuthorize,
  handleCheckToken,
  handleRefresh,
  handleToken,
  validateAuthorize,
  type HandlerContext,
} from './handlers';
import { OAuthProblem, drainBody, readBody, sendJson, send } from './http';
import { ENDPOINTS, applySettings, resolveOptions } from './options';
import { bool, oneOf, optionError, positiveNumber } from '../option-rules';
import { EmulatorStore, TOKEN_ISSUERS } from './state';
import type { Emulator, EmulatorEndpoint, EmulatorOptions, Fault, TokenIssuer } from './types';

const tokenIssuer = oneOf(...TOKEN_ISSUERS);

export { EMULATOR_RET_CODES } from './http';
export { sendSpiCall, SPI_RETRIES } from './spi-client';
export type { SpiCallAction, SpiCallOptions, SpiCallParams, SpiCallResult, SpiAttempt } from './spi-client';
export type {
  AccessKeyInfo,
  ApproveParams,
  Emulator,
  EmulatorClient,
  EmulatorEndpoint,
  EmulatorErrorStyle,
  EmulatorOptions,
  EmulatorRetCodeType,
  EmulatorRouteHandler,
  EmulatorSettings,
  EmulatorUser,
  Fault,
  FaultOptions,
  IssuedTokens,
  IssueTokensOptions,
  TokenIssuer,
} from './types';

type Handler = (
  ctx: HandlerContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: string,
  query: string,
) => void | Promise<void>;

interface Target {
  readonly endpoint: EmulatorEndpoint | undefined;
  /** `undefined`: any method (extra routes decide for themselves). */
  readonly method: 'GET' | 'POST' | undefined;
  readonly handler: Handler;
}

/** The SSO API, by exact path (the real server answers 404 to `/sso/token` without the slash). */
const BUILT_IN: ReadonlyMap<string, Target> = new Map<string, Target>([
  [
    '/sso/oauth2/',
    {
      endpoint: 'authorize',
      method: 'GET',
      handler: (ctx, req, res, _body, query) => handleAuthorize(ctx, req, res, query),
    },
  ],
  [
    '/sso/oauth2/approve',
    { endpoint: 'authorize', method: 'POST', handler: (ctx, req, res, body) => handleApprove(ctx, req, res, body) },
  ],
  ['/console', { endpoint: undefined, method: 'GET', handler: (ctx, req, res) => handleConsole(ctx, req, res) }],
  [
    '/console/launch',
    { endpoint: undefined, method: 'POST', handler: (ctx, req, res, body) => handleConsoleLaunch(ctx, req, res, body) },
  ],
  [
    '/sso/token/',
    { endpoint: 'token', method: 'POST', handler: (ctx, req, res, body) => handleToken(ctx, req, res, body) },
  ],
  [
    '/sso/check_token/',
    {
      endpoint: 'check_token',
      method: 'POST',
      handler: (ctx, req, res, body) => handleCheckToken(ctx, req, res, body),
    },
  ],
  [
    '/sso/refresh_token/',
    { endpoint: 'refresh_token', method: 'POST', handler: (ctx, req, res, body) => handleRefresh(ctx, req, res, body) },
  ],
]);

function zeroCounts(): Record<EmulatorEndpoint, number> {
  return Object.fromEntries(ENDPOINTS.map((e) => [e, 0])) as Record<EmulatorEndpoint, number>;
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/**
 * Starts an SSO emulator: a real HTTP server implementing `/sso/oauth2/`, `/sso/token/`,
 * `/sso/check_token/` and `/sso/refresh_token/` as strictly as the real server, with a sign-in
 * page (or auto-approve), fault injection and call counters. Resolves once it listens.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const config = resolveOptions(options);
  const store = new EmulatorStore(config.clock, config.settings, config.users);
  const ctx: HandlerContext = { config, store };
  const routes = [...config.routes];
  if (config.cloudApi !== undefined && !routes.some((r) => r.prefix === '/iam')) {
    const handler = createCloudApiHandler({
      lookupAccessKey: (key) => store.lookupAccessKey(key),
      clock: config.clock,
      ...config.cloudApi,
    });
    routes.push({ prefix: '/iam', endpoint: 'iam', handler });
  }
  const firstClientId = config.clients[0]?.clientId ?? '';
  const firstUserId = config.users[0]?.user_id ?? '';
  let counts = zeroCounts();
  const faults = new Map<EmulatorEndpoint, { fault: Fault; remaining: number | undefined }>();
  const sockets = new Set<Socket>();
  const sleepers = new Set<{ timer: NodeJS.Timeout; wake: (completed: boolean) => void }>();
  let stopping: Promise<void> | undefined;
  let starting: Promise<void> | undefined;
  let closed = false;

  const takeFault = (endpoint: EmulatorEndpoint): Fault | undefined => {
    const active = faults.get(endpoint);
    if (!active) return undefined;
    if (active.remaining !== undefined && --active.remaining <= 0) faults.delete(endpoint);
    return active.fault;
  };

  /** Resolves `true` after `ms`, or `false` early when the emulator goes down or closes. */
  const sleep = (ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      const sleeper = {
        timer: setTimeout(() => sleeper.wake(true), ms),
        wake: (completed: boolean) => {
          clearTimeout(sleeper.timer);
          sleepers.delete(sleeper);
          resolve(completed);
        },
      };
      sleepers.add(sleeper);
    });

  const findTarget = (path: string): Target | undefined => {
    const builtIn = BUILT_IN.get(path);
    if (builtIn) return builtIn;
    const route = routes.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`));
    return (
      route && {
        endpoint: route.endpoint,
        method: undefined,
        handler: (_ctx, req, res, body) => route.handler(req, res, body),
      }
    );
  };

  const server = http.createServer(async function handleEmulatorRequest(req, res) {
    const rawUrl = req.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const query = queryAt === -1 ? '' : rawUrl.slice(queryAt + 1);
    // Path only: queries and bodies may carry codes, tokens or secrets.
    res.on('finish', () => config.logger(`${req.method} ${path.slice(0, 200)} -> ${res.statusCode}`));
    try {
      if (path === '/health') {
        if (req.method === 'GET') send(res, 200, 'text/plain; charset=utf-8', 'ok');
        else sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'GET' });
        return;
      }
      const target = findTarget(path);
      if (!target) {
        sendJson(res, 404, { error: 'not_found', error_description: 'no such endpoint' });
        return;
      }
      let fault: Fault | undefined;
      if (target.endpoint) {
        counts[target.endpoint] += 1;
        fault = takeFault(target.endpoint);
        if (fault && fault.type !== 'slow') {
          await drainBody(req);
          config.logger(`${req.method} ${path.slice(0, 200)} -> fault ${fault.type}`);
          if (!res.destroyed) answerWithFault(req, res, fault, target.endpoint, config.settings);
          return;
        }
      }
      if (fault?.type === 'slow' && (!(await sleep(fault.delayMs)) || res.destroyed)) return;
      if (target.method && req.method !== target.method) {
        sendJson(
          res,
          405,
          { error: 'method_not_allowed', error_description: `use ${target.method}` },
          { allow: target.method },
        );
        return;
      }
      const body = await readBody(req);
      if (body === undefined) {
        sendJson(
          res,
          413,
          { error: 'payload_too_large', error_description: 'the body is over 64 KB' },
          { connection: 'close' },
        );
        return;
      }
      await target.handler(ctx, req, res, body, query);
    } catch (err) {
      config.logger(`${req.method} ${path.slice(0, 200)} failed: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent && !res.destroyed)
        sendJson(res, 500, { error: 'server_error', error_description: 'the emulator failed' });
      else res.destroy();
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await listen(server, config.port, config.host);
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  /** Closes the listener and drops every connection (hanging and slow requests included). */
  const stop = (): Promise<void> => {
    if (!stopping) {
      stopping = new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        for (const sleeper of [...sleepers]) sleeper.wake(false);
      }).finally(() => {
        stopping = undefined;
      });
    }
    return stopping;
  };

  const emulator: Emulator = {
    url,
    port,
    get counts() {
      return { ...counts };
    },
    resetCounts() {
      counts = zeroCounts();
    },
    setFault(endpoint, fault, opts) {
      const times = validateFault(endpoint, fault, opts);
      if (fault === null) faults.delete(endpoint);
      else faults.set(endpoint, { fault: { ...fault }, remaining: times });
    },
    clearFaults() {
      faults.clear();
    },
    setOptions(patch) {
      applySettings(config.settings, patch, (id) => store.users.has(id), firstUserId);
    },
    approve(params) {
      if (params === null || typeof params !== 'object') throw optionError('approve() params', 'an object', params);
      const clientId = params.clientId ?? firstClientId;
      try {
        validateAuthorize(config, { clientId, responseType: 'code', redirectUri: params.redirectUri });
      } catch (err) {
        throw err instanceof OAuthProblem ? new Error(`approve(): ${err.message}`) : err;
      }
      const userId = params.userId ?? firstUserId;
      if (!store.users.has(userId)) throw optionError('userId', 'the user_id of a configured user', userId);
      if (params.tokenIssuer !== undefined) tokenIssuer(params.tokenIssuer, { name: 'tokenIssuer' });
      return store.issueCode({
        clientId,
        redirectUri: params.redirectUri,
        userId,
        tokenIssuer: params.tokenIssuer as TokenIssuer | undefined,
      });
    },
    spi(url, action, params = {}, opts = {}) {
      const secretAppKey = opts.secretAppKey ?? config.secretAppKey;
      if (secretAppKey === undefined)
        throw optionError('secretAppKey', 'a non-empty string (the emulator option, or spi() options)', undefined);
      return sendSpiCall(url, action, params, { clock: config.clock, ...opts, secretAppKey });
    },
    issueTokens(userId = firstUserId, opts = {}) {
      if (!store.users.has(userId)) throw optionError('userId', 'the user_id of a configured user', userId);
      if (opts.accessTokenTtl !== undefined)
        positiveNumber(opts.accessTokenTtl, { name: 'accessTokenTtl', unit: 'seconds' });
      if (opts.refreshToken !== undefined) bool(opts.refreshToken, { name: 'refreshToken' });
      return store.createGrant(firstClientId, userId, 'sso', opts).tokens;
    },
    revokeToken(token) {
      store.revokeToken(token);
    },
    revokeUser(userId) {
      store.revokeUser(userId);
    },
    lookupAccessKey(accessKey) {
      return store.lookupAccessKey(accessKey);
    },
    down: stop,
    async up() {
      if (closed) throw new Error('up(): the emulator is closed');
      await stopping;
      if (server.listening) return;
      starting ??= listen(server, port, config.host).finally(() => {
        starting = undefined;
      });
      await starting;
    },
    async close() {
      closed = true;
      await stop();
    },
  };
  return emulator;
}
