/**
 * The identity provider of a scenario, in its own process as in production (the app process then
 * holds only the app): `emulator` (express-sso-guard's SSO emulator, auto-approving) or `oidc`
 * (oauth2-mock-server). Forked by a scenario server, which reads `{ type: 'ready', url }` and
 * sends `stop`. It is idle during the measured load: every loaded request is served from the
 * app's own session and cache.
 */
import { importGuard } from './scenarios.mjs';

const kind = process.argv[2];
let close;
let url;
if (kind === 'emulator') {
  const { startEmulator } = await importGuard('testing');
  const sso = await startEmulator({
    host: '127.0.0.1',
    port: 0,
    autoApprove: true,
    clientId: 'bench-client',
    clientSecret: 'bench-client-secret',
  });
  url = sso.url;
  close = () => sso.close();
} else if (kind === 'oidc') {
  const { OAuth2Server } = await import('oauth2-mock-server');
  const issuer = new OAuth2Server();
  await issuer.issuer.keys.generate('RS256');
  await issuer.start(0, '127.0.0.1');
  url = issuer.issuer.url;
  close = () => issuer.stop();
} else {
  console.error('usage: bench/issuer.mjs emulator|oidc (forked by bench/server.mjs)');
  process.exit(2);
}
process.on('message', async (msg) => {
  if (msg.type === 'stop') {
    await close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready', url });
