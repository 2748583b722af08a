import createDebug from 'debug';
import { SsoGuardError } from '../errors';

const debug = createDebug('express-sso-guard:store');

/** What redisStore needs of a client, whatever its kind. */
export interface RedisAdapter {
  /** The library and topology (`node-redis cluster`, `ioredis sentinel`, ...), for the debug log. */
  readonly kind: string;
  /** Sends one command whose only key (routing on a cluster) is `key`, if it has one. */
  send(args: string[], key: string | undefined): Promise<unknown>;
  /**
   * Subscribes to `channel` on a connection of its own. `onResubscribed` is called whenever the
   * subscription may have been lost and restored (a reconnection, a failover, a node change).
   * Resolves a function that closes that connection.
   */
  subscribe(
    channel: string,
    listener: (message: string) => void,
    onResubscribed: () => void,
  ): Promise<() => Promise<void>>;
}

type Fn = (...args: never[]) => unknown;
type Listen = (event: string, listener: (...args: never[]) => void) => unknown;

/** ioredis `Redis` (standalone or Sentinel) or `Cluster`. */
interface IoRedisLike {
  call(command: string, ...args: string[]): Promise<unknown>;
  duplicate(): IoRedisLike;
  subscribe(channel: string): Promise<unknown>;
  on: Listen;
  disconnect(): void;
  isCluster?: boolean;
  options?: { sentinels?: unknown };
}

/** What node-redis clients, clusters and sentinels share (their `sendCommand` differs). */
interface NodeRedisLike {
  duplicate(): NodeRedisLike;
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  on: Listen;
  destroy?(): void;
  quit?(): Promise<unknown>;
  close?(): Promise<unknown>;
}

const has = (c: unknown, ...names: string[]): boolean =>
  typeof c === 'object' && c !== null && names.every((n) => typeof (c as Record<string, unknown>)[n] === 'function');

/**
 * `sendCommand` of each node-redis kind (4, 5 and 6): a client's takes (args, options?), a
 * cluster's (firstKey, isReadonly, args, options?), a sentinel's (isReadonly, args, options?).
 * Their arity tells a known signature from one this version does not know.
 */
const NODE_REDIS_ARITY = { standalone: [1, 2], cluster: [4], sentinel: [3] } as const;

function refuse(message: string): never {
  throw new SsoGuardError('invalid_option', `"redisStore.client" ${message}`);
}

function ioRedis(client: IoRedisLike): RedisAdapter {
  const kind =
    client.isCluster === true ? 'ioredis cluster' : client.options?.sentinels ? 'ioredis sentinel' : 'ioredis';
  return {
    kind,
    // ioredis routes a cluster command by its keys itself.
    send: ([command, ...args]) => client.call(command!, ...args),
    async subscribe(channel, listener, onResubscribed) {
      const sub = client.duplicate();
      sub.on('error', ((err: Error) => debug('subscriber error: %s', err.message)) as never);
      sub.on('message', ((ch: string, message: string) => {
        if (ch === channel) listener(message);
      }) as never);
      await sub.subscribe(channel);
      // Connected and subscribed: every later 'ready' is a reconnection (ioredis resubscribes,
      // on a cluster through another node if need be).
      sub.on('ready', onResubscribed as never);
      return async () => sub.disconnect();
    },
  };
}

function nodeRedis(
  client: NodeRedisLike,
  kind: 'standalone' | 'cluster' | 'sentinel',
  send: RedisAdapter['send'],
): RedisAdapter {
  // A cluster tells of a node that reconnected (maybe the one holding the subscription), a
  // sentinel of a new master or a reconnection: either may have lost messages meanwhile.
  const restoredEvents = { standalone: ['ready'], cluster: ['node-ready'], sentinel: ['ready', 'topology-change'] }[
    kind
  ];
  return {
    kind: kind === 'standalone' ? 'node-redis' : `node-redis ${kind}`,
    send,
    async subscribe(channel, listener, onResubscribed) {
      const sub = client.duplicate();
      sub.on('error', ((err: Error) => debug('subscriber error: %s', err.message)) as never);
      await sub.connect();
      await sub.subscribe(channel, listener);
      for (const event of restoredEvents) sub.on(event, (() => onResubscribed()) as never);
      return async () => {
        const end = sub.close ?? sub.quit;
        if (end) await end.call(sub).catch(() => sub.destroy?.());
        else sub.destroy?.();
      };
    },
  };
}

/**
 * The adapter for a user's client: node-redis 4+ (`createClient`, `createCluster`,
 * `createSentinel`) or ioredis (`new Redis()`, with `sentinels` too, or `new Redis.Cluster()`).
 * Anything else is refused here, at construction: a client whose commands would all fail would
 * otherwise only show as a silent fall back to in-process behaviour.
 */
export function adaptRedisClient(client: unknown): RedisAdapter {
  if (typeof client !== 'object' || client === null)
    refuse(`must be a node-redis or ioredis client; received ${client === null ? 'null' : typeof client}`);
  if (has(client, 'call')) {
    if (!has(client, 'duplicate', 'subscribe', 'on', 'disconnect'))
      refuse('looks like an ioredis client but lacks duplicate(), subscribe(), on() or disconnect()');
    return ioRedis(client as IoRedisLike);
  }
  if (!has(client, 'sendCommand'))
    refuse(
      'must be a node-redis client (createClient, createCluster, createSentinel) or an ioredis client ' +
        '(new Redis(), new Redis.Cluster()); received an object with neither sendCommand() nor call()',
    );
  const c = client as NodeRedisLike & Record<string, unknown>;
  const kind = 'masters' in c || 'pubSubNode' in c ? 'cluster' : has(c, 'getMasterNode') ? 'sentinel' : 'standalone';
  const name = kind === 'standalone' ? 'node-redis client' : `node-redis ${kind}`;
  if (!has(c, 'duplicate', 'connect', 'subscribe', 'on'))
    refuse(`looks like a ${name} but lacks duplicate(), connect(), subscribe() or on()`);
  const sendCommand = c.sendCommand as Fn;
  if (!(NODE_REDIS_ARITY[kind] as readonly number[]).includes(sendCommand.length))
    refuse(
      `looks like a ${name}, but its sendCommand() takes ${sendCommand.length} parameters, not a signature of ` +
        'node-redis 4 to 6 (unsupported version)',
    );
  const call = (...args: unknown[]) => (sendCommand as (...a: unknown[]) => Promise<unknown>).apply(c, args);
  // Every command goes to a master (isReadonly false): a lock or a refresh outcome read from a
  // replica could be stale.
  const send: RedisAdapter['send'] =
    kind === 'cluster'
      ? (args, key) => call(key, false, args)
      : kind === 'sentinel'
        ? (args) => call(false, args)
        : (args) => call(args);
  return nodeRedis(c, kind, send);
}
