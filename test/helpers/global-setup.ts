import { redisAvailable } from './redis';

/**
 * Runs once before the suites: finds out whether a Redis server (and the redis-server binary)
 * is there, and tells the workers through the environment so the Redis suites can skip at
 * definition time, with a printed reason. REQUIRE_REDIS=1 (CI) turns a missing Redis into a failure.
 */
export default async function globalSetup(): Promise<void> {
  process.env.SSO_GUARD_TEST_REDIS = (await redisAvailable(true)) ? '1' : '0';
}
