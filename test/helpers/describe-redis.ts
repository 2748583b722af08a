/** `describe`, or `describe.skip` when the global setup found no Redis (it printed the reason). */
export const describeRedis: jest.Describe = process.env.SSO_GUARD_TEST_REDIS === '1' ? describe : describe.skip;
