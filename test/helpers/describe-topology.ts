/**
 * The Redis Cluster and Sentinel suites: on a real topology, for each client, the store's
 * commands and pub/sub, then the multi-instance behaviours over real HTTP.
 */
import { connectRedis, type ClientKind } from './redis-clients';
import { cleanTopology, dumpTopology, topologiesAvailable, topologyEnv, type Topology } from './redis-topologies';
import { sharedInstanceTests } from './multi-instance';
import { storeContractTests } from './store-contract';

/**
 * `describe`, or `describe.skip` when the topologies cannot run here (the reason printed);
 * under REQUIRE_REDIS_CLUSTER=1 (CI) a missing topology fails instead.
 */
const describeTopology: jest.Describe =
  process.env.SSO_GUARD_TEST_REDIS === '1' && topologiesAvailable() ? describe : describe.skip;

/**
 * The suites on the topology `start` gives (started once for the file, stopped at its end);
 * `withFailover`: last, a failover under running instances (the topology's `failover()`).
 */
export function describeTopologySuites(
  title: string,
  start: () => Promise<Topology>,
  clients: readonly ClientKind[],
  { withFailover = false } = {},
): void {
  describeTopology(title, () => {
    let topology: Topology;
    beforeAll(async () => {
      topology = await start();
    });
    afterAll(() => topology?.stop());

    describe.each(clients)('%s', (client) => {
      describe('redisStore', () => {
        storeContractTests(
          () => connectRedis(topologyEnv(topology, client)),
          (prefix) => cleanTopology(topology, prefix),
        );
      });
      // The client does not depend on the Express major: Express 5 only, to keep the suite short
      // (and the tests that depend on neither client nor topology run in the standalone suite).
      describe('several instances (express 5)', () => {
        sharedInstanceTests(
          '5',
          () => ({
            env: topologyEnv(topology, client),
            dump: (prefix) => dumpTopology(topology, prefix),
            clean: (prefix) => cleanTopology(topology, prefix),
          }),
          { topologyFree: false, failover: withFailover ? () => topology.failover!() : undefined },
        );
      });
    });
  });
}
