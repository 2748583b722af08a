/**
 * A real 3-master Redis Cluster, through node-redis `createCluster` and ioredis `Cluster`: the
 * store's commands and pub/sub, then the multi-instance behaviours over real HTTP.
 */
import { describeTopologySuites } from '../helpers/describe-topology';
import { redisCluster } from '../helpers/redis-topologies';

jest.setTimeout(60_000);

describeTopologySuites('Redis Cluster (3 masters)', redisCluster, ['node-redis-cluster', 'ioredis-cluster']);
