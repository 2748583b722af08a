import createDebug from 'debug';
import { SsoGuardError } from '../errors';
import type { SsoStore, SsoStoreTuning } from './types';
import { optionError, positiveNumber, refuseUnknown } from '../option-rules';

const debug = createDebug('express-sso-guard:store');

/** The part of a node-redis (v4+) client we use. */
interface NodeRedisLike {
  sendCommand(args: string[]): Promise<unknown>;
  duplicate(): NodeRedisLike & {
    connect(): Promise<unknown>;
    subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
    quit?(): Promise<unknown>;
    destroy?(): void;
    on(event: 'error' | 'ready', listener: (err: Error) => void): unknown;
  };
}

/** The part of an ioredis client we use. */
interface IoRedisLike {
  call(command: string, ...args: string[]): Promise<unknown>;
  duplicate(): IoRedisLike & {
    subscribe(channel: string): Promise<unknown>;
    on(event: string, listener: (...args: never[]) => void): unknown;
    disconnect(): void;
  };
}

/** Options of {@link redisStore}. */
export interface RedisStoreOptions extends SsoStoreTuning {
  /**
   * A connected client the app owns: node-redis 4+ (`createClient()`, after `connect()`) or
   * ioredis. express-sso-guard never closes it. It needs these commands: GET, SET (PX, NX), DEL,
   * EVAL (one key: compare-and-delete of a lock), PUBLISH and, on a duplicate connection it opens
   * itself, SUBSCRIBE. All are single-key, so Redis Cluster and Valkey work.
   */
  client: unknown;
  /** Prefix of every key and of the pub/sub channel. Default `sso-guard:`. */
  prefix?: string;
}

const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

function isIoRedis(c: unknown): c is IoRedisLike {
  return typeof (c as IoRedisLike | null)?.call === 'function' && typeof (c as IoRedisLike).duplicate === 'function';
}

function isNodeRedis(c: unknown): c is NodeRedisLike {
  return (
    typeof (c as NodeRedisLike | null)?.sendCommand === 'function' &&
    typeof (c as NodeRedisLike).duplicate === 'function'
  );
}

/**
 * A Redis-backed {@link SsoStore}, so several instances share the check_token cache, refresh
 * coordination and logout revocation: `auth({ store: redisStore({ client }) })`. Values are
 * encrypted by express-sso-guard before they reach it.
 */
export function redisStore(options: RedisStoreOptions): SsoStore & SsoStoreTuning {
  if (options === null || typeof options !== 'object')
    throw new SsoGuardError('invalid_option', '"redisStore" options must be an object { client, prefix? }');
  const { client, prefix = 'sso-guard:', timeout, localTtl } = options;
  refuseUnknown(options, ['client', 'prefix', 'timeout', 'localTtl'], 'redisStore');
  // The shared rules describe a bad value (never echo it: a Redis URL put in the wrong option
  // carries a password).
  if (typeof prefix !== 'string') throw optionError('redisStore.prefix', 'a string', prefix);
  if (timeout !== undefined) positiveNumber(timeout, { name: 'redisStore.timeout', unit: 'milliseconds' });
  if (localTtl !== undefined) positiveNumber(localTtl, { name: 'redisStore.localTtl', unit: 'seconds' });

  let send: (args: string[]) => Promise<unknown>;
  let openSubscriber: (
    channel: string,
    listener: (message: string) => void,
    onResubscribed: () => void,
  ) => Promise<() => Promise<void>>;
  if (isIoRedis(client)) {
    send = ([command, ...args]) => client.call(command!, ...args);
    openSubscriber = async (channel, listener, onResubscribed) => {
      const sub = client.duplicate();
      sub.on('error', (err: never) => debug('subscriber error: %s', (err as Error).message));
      sub.on('message', ((ch: string, message: string) => {
        if (ch === channel) listener(message);
      }) as never);
      await sub.subscribe(channel);
      // Connected and subscribed: every later 'ready' is a reconnection (ioredis resubscribes).
      sub.on('ready', onResubscribed as never);
      return async () => sub.disconnect();
    };
  } else if (isNodeRedis(client)) {
    send = (args) => client.sendCommand(args);
    openSubscriber = async (channel, listener, onResubscribed) => {
      const sub = client.duplicate();
      sub.on('error', (err) => debug('subscriber error: %s', err.message));
      await sub.connect();
      await sub.subscribe(channel, listener);
      // Connected and subscribed: every later 'ready' is a reconnection (node-redis resubscribes).
      sub.on('ready', () => onResubscribed());
      return async () => {
        if (sub.quit) await sub.quit().catch(() => sub.destroy?.());
        else sub.destroy?.();
      };
    };
  } else {
    throw new SsoGuardError('invalid_option', '"redisStore.client" must be a node-redis (v4+) or ioredis client');
  }

  const channel = `${prefix}events`;
  let closeSubscriber: (() => Promise<void>) | undefined;
  return {
    timeout,
    localTtl,
    prefix,
    async get(key) {
      const v = await send(['GET', prefix + key]);
      return v === null || v === undefined ? undefined : String(v);
    },
    async set(key, value, ttlMs, onlyIfAbsent = false) {
      const args = ['SET', prefix + key, value, 'PX', String(Math.max(1, Math.ceil(ttlMs)))];
      if (onlyIfAbsent) args.push('NX');
      return (await send(args)) !== null;
    },
    async delete(key) {
      await send(['DEL', prefix + key]);
    },
    async deleteIfEquals(key, value) {
      await send(['EVAL', RELEASE, '1', prefix + key, value]);
    },
    async publish(message) {
      await send(['PUBLISH', channel, message]);
    },
    async subscribe(listener, onResubscribed) {
      closeSubscriber = await openSubscriber(channel, listener, () => onResubscribed?.());
    },
    async close() {
      await closeSubscriber?.();
      closeSubscriber = undefined;
    },
  };
}
