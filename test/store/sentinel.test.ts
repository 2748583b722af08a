/**
 * A real Sentinel setup (one master, one replica, two sentinels), through node-redis
 * `createSentinel` and ioredis `new Redis({ sentinels, name })`: the store's commands and pub/sub,
 * then the multi-instance behaviours over real HTTP, and a failover under running instances.
 */
import { describeTopologySuites } from '../helpers/describe-topology';
import { redisSentinel } from '../helpers/redis-topologies';

jest.setTimeout(60_000);

describeTopologySuites(
  'Redis Sentinel (a master, a replica, two sentinels)',
  redisSentinel,
  ['node-redis-sentinel', 'ioredis-sentinel'],
  { withFailover: true },
);
