'use strict';
// `npm start`: the example app on PORT, with the bundled SSO emulator when SSO_BASE_URL is unset.
const { createApp } = require('./app');
const { startEmulator } = require('express-sso-guard/testing');

const DEV_SECRET = 'development-only-secret-change-me-0123456789';

async function main() {
  const port = Number(process.env.PORT || 3000);
  const appBaseUrl = process.env.APP_BASE_URL || `http://localhost:${port}`;
  const clientId = process.env.SSO_CLIENT_ID || 'example-client';
  const clientSecret = process.env.SSO_CLIENT_SECRET || 'example-secret';
  let ssoBaseUrl = process.env.SSO_BASE_URL;
  let emulator;
  if (!ssoBaseUrl) {
    emulator = await startEmulator({
      clientId,
      clientSecret,
      redirectUris: [`${appBaseUrl}/callback`],
      accessTokenTtl: Number(process.env.EMULATOR_ACCESS_TOKEN_TTL || 3600),
    });
    ssoBaseUrl = emulator.url;
  }
  const secret = process.env.SESSION_SECRET || DEV_SECRET;
  if (!process.env.SESSION_SECRET) {
    console.warn('WARNING: SESSION_SECRET is not set; using a development secret. Never do this in production.');
  }

  const app = createApp({ ssoBaseUrl, appBaseUrl, clientId, clientSecret, secret });
  const server = app.listen(port, '127.0.0.1', () => {
    console.log(`Example app:  ${appBaseUrl}`);
    console.log(emulator ? `SSO emulator: ${emulator.url} (bundled; set SSO_BASE_URL to use a real SSO)` : `SSO:          ${ssoBaseUrl}`);
  });

  const stop = () => {
    server.close();
    if (emulator) emulator.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
