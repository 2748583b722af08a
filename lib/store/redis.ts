import createDebug from 'debug';
import { SsoGuardError } from '../errors';
import type { SsoStore, SsoStoreTuning } from './types';
import { optionError, positiveNumber, refuseUnknown } from '../option-rules';
import { adaptRedisClient } from './redis-adapters';

const debug = createDebug('express-sso-guard:store');

/** Options of {@link redisStore}. */
export interface RedisStoreOptions extends SsoStoreTuning {
  /**
   * A connected client the app owns: node-redis 4+ (`createClient()`, `createCluster()` or
   * `createSentinel()`, after `connect()`) or ioredis (`new Redis()`, with `sentinels` too, or
   * `new Redis.Cluster()`). Anything else is refused at once (`invalid_option`). express-sso-guard
   * never closes it. It needs these commands: GET, SET (PX, NX), DEL, EVAL (one key:
   * compare-and-delete of a lock), PUBLISH and, on a duplicate connection it opens itself,
   * SUBSCRIBE. All are single-key, so Redis Cluster and Valkey work.
   */
  client: unknown;
  /** Prefix of every key and of the pub/sub channel. Default `sso-guard:`. */
  prefix?: string;
}

const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

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

  const redis = adaptRedisClient(client);
  const send = redis.send;
  debug('redisStore over %s', redis.kind);

  const channel = `${prefix}events`;
  let closeSubscriber: (() => Promise<void>) | undefined;
  return {
    timeout,
    localTtl,
    prefix,
    async get(key) {
      const v = await send(['GET', prefix + key], prefix + key);
      return v === null || v === undefined ? undefined : String(v);
    },
    async set(key, value, ttlMs, onlyIfAbsent = false) {
      const args = ['SET', prefix + key, value, 'PX', String(Math.max(1, Math.ceil(ttlMs)))];
      if (onlyIfAbsent) args.push('NX');
      return (await send(args, prefix + key)) !== null;
    },
    async delete(key) {
      await send(['DEL', prefix + key], prefix + key);
    },
    async deleteIfEquals(key, value) {
      await send(['EVAL', RELEASE, '1', prefix + key, value], prefix + key);
    },
    async publish(message) {
      // Classic pub/sub: on a cluster, a message published on any node reaches subscribers on all.
      await send(['PUBLISH', channel, message], undefined);
    },
    async subscribe(listener, onResubscribed) {
      closeSubscriber = await redis.subscribe(channel, listener, () => onResubscribed?.());
    },
    async close() {
      await closeSubscriber?.();
      closeSubscriber = undefined;
    },
  };
}
