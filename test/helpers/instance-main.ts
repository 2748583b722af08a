/**
 * One app instance as its own process, for the multi-instance suites: `auth()` with a Redis store
 * (any client and topology of test/helpers/redis-clients.ts),
 * configured from the environment; tells its parent its port over IPC.
 */
import express5 from 'express';
import { auth } from '../../lib/express/middleware';
import { redisStore } from '../../lib/store/redis';
import { connectRedis } from './redis-clients';

async function main(): Promise<void> {
  const env = process.env;
  // The multi-instance suite runs on both Express majors.
  const express = env.EXPRESS_MAJOR === '4' ? (require('express4') as typeof express5) : express5;
  // REDIS_CLIENT: node-redis (default) or ioredis, standalone, cluster or Sentinel.
  const { client } = await connectRedis(env);
  const mw = auth({
    ssoBaseUrl: env.SSO_BASE_URL,
    appBaseUrl: env.APP_BASE_URL,
    clientId: env.SSO_CLIENT_ID,
    clientSecret: env.SSO_CLIENT_SECRET,
    secret: env.SESSION_SECRET,
    httpTimeout: Number(env.HTTP_TIMEOUT ?? 5000),
    session: { serverSide: env.SESSION_SERVER_SIDE === '1' },
    store: redisStore({ client, prefix: env.REDIS_PREFIX, timeout: Number(env.STORE_TIMEOUT ?? 200) }),
  });
  await mw.ready;
  const app = express();
  app.use(mw);
  app.get('/api/me', (req, res) => res.json({ user: req.sso.user, credentials: req.sso.credentials }));
  app.get('/page', (req, res) => res.send(`hello ${req.sso.user?.user_name}`));
  const server = app.listen(0, '127.0.0.1', () => {
    process.send?.({ port: (server.address() as { port: number }).port });
  });
  process.on('message', (msg: unknown) => {
    if (msg === 'stats') process.send?.({ stats: mw.storeStats });
    const revoke = (msg as { revokeUser?: unknown } | null)?.revokeUser;
    if (typeof revoke === 'string') void mw.revokeUser(revoke).then(() => process.send?.({ revoked: revoke }));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
