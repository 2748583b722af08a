'use strict';
// `npm start`: the example app on PORT, with the bundled SSO emulator when SSO_BASE_URL is unset.
const http = require('node:http');
const { createClient } = require('redis');
const { SsoIncomingMessage, parseCloudInfo, redisStore } = require('express-sso-guard');
const { startEmulator } = require('express-sso-guard/testing');
const { createApp } = require('./app');
const { accessLog, jsonLogger, startMetrics } = require('./observability');

const DEV_SECRET = 'development-only-secret-do-not-deploy-0123456789';
/** The AppCenter `secret_app_key` of development (the bundled emulator signs its SPI calls with it). */
const DEV_SPI_KEY = 'development-only-secret-app-key';

function portFrom(value = '3000') {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535)
    throw new Error(`PORT must be a port number (0 picks a free one); received ${JSON.stringify(value)}`);
  return Number(value);
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

function sessionSecret(env) {
  if (env.SESSION_SECRET) return env.SESSION_SECRET;
  if (env.NODE_ENV === 'production')
    throw new Error('SESSION_SECRET must be set (32+ random characters) when NODE_ENV=production');
  console.warn(
    '\n  WARNING: SESSION_SECRET is not set: sessions are sealed with a public development secret.\n' +
      '  Set SESSION_SECRET to 32+ random characters (e.g. `openssl rand -base64 32`) before deploying.\n',
  );
  return DEV_SECRET;
}

/** The AppCenter `secret_app_key` the SPI at /spi checks: APPCENTER_SECRET_APP_KEY, or the development one. */
function spiSecretAppKey(env) {
  if (env.APPCENTER_SECRET_APP_KEY) return env.APPCENTER_SECRET_APP_KEY;
  if (env.NODE_ENV === 'production')
    throw new Error('APPCENTER_SECRET_APP_KEY must be set when NODE_ENV=production (the SPI at /spi checks it)');
  return DEV_SPI_KEY;
}

/**
 * Starts the example app on 127.0.0.1 (and, without SSO_BASE_URL, the SSO emulator) from `env`.
 * `port` defaults to PORT, else 3000; 0 picks a free one.
 * Resolves to `{ appUrl, port, ssoUrl, emulator, consoleUrl, spiSecretAppKey, close }` (`emulator`
 * and `consoleUrl` only when bundled).
 */
async function start({ env = process.env, port = portFrom(env.PORT || undefined) } = {}) {
  const secret = sessionSecret(env);
  const secretAppKey = spiSecretAppKey(env);
  // Requests born with req.sso and req.user: auth() fills fields instead of adding them (faster).
  const server = http.createServer({ IncomingMessage: SsoIncomingMessage });
  const actualPort = await listen(server, port);
  let emulator;
  let redis;
  let store;
  let metrics;
  const close = async () => {
    await new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections(); // browsers keep connections open
    });
    await emulator?.close();
    await store?.close();
    await redis?.quit();
    await metrics?.close();
  };

  try {
    const appUrl = (env.APP_BASE_URL || `http://localhost:${actualPort}`).replace(/\/+$/, '');
    if (!URL.canParse(appUrl))
      throw new Error(`APP_BASE_URL must be a URL such as https://app.example.com; received ${JSON.stringify(appUrl)}`);
    let ssoUrl = env.SSO_BASE_URL;
    let clientId = env.SSO_CLIENT_ID;
    let clientSecret = env.SSO_CLIENT_SECRET;
    // AppCenter hands a SaaS app its SSO and API servers as APPCENTER_CLOUD_INFO (base64 JSON).
    const cloudInfo = !ssoUrl && env.APPCENTER_CLOUD_INFO ? parseCloudInfo(env.APPCENTER_CLOUD_INFO) : undefined;
    if (cloudInfo) {
      if (!clientId || !clientSecret)
        throw new Error('APPCENTER_CLOUD_INFO is set, so SSO_CLIENT_ID and SSO_CLIENT_SECRET must be set too');
      ssoUrl = cloudInfo.ssoBaseUrl;
    } else if (ssoUrl) {
      if (!clientId || !clientSecret)
        throw new Error('SSO_BASE_URL is set, so SSO_CLIENT_ID and SSO_CLIENT_SECRET must be set too');
    } else {
      // The bundled emulator signs anyone in: never in production.
      if (env.NODE_ENV === 'production')
        throw new Error('SSO_BASE_URL must be set when NODE_ENV=production (the bundled SSO emulator signs anyone in)');
      clientId ||= 'example-client';
      clientSecret ||= 'example-secret';
      emulator = await startEmulator({
        clientId,
        clientSecret,
        redirectUris: [`${appUrl}/callback`],
        // Seconds; make it short (e.g. 30) to watch sessions refresh their tokens.
        accessTokenTtl: Number(env.EMULATOR_ACCESS_TOKEN_TTL || 3600),
        // Its /console page launches the app as AppCenter does (launch: true in app.js); its spi()
        // signs calls to /spi.
        console: { authUrl: `${appUrl}/launch`, appUrl: `${appUrl}/profile` },
        secretAppKey,
      });
      ssoUrl = emulator.url;
    }
    // The cloud API the profile page calls with the user's temporary keys (the emulator serves one).
    const cloudApiUrl = env.CLOUD_API_URL || cloudInfo?.apiBaseUrl || emulator?.url;
    // Several instances behind one APP_BASE_URL share the cache, refreshes and logouts through Redis.
    if (env.REDIS_URL) {
      redis = createClient({ url: env.REDIS_URL, disableOfflineQueue: true });
      redis.on('error', (err) => console.warn(`Redis: ${err.message}`));
      await redis.connect();
      store = redisStore({ client: redis });
    }
    // Metrics and logs first: auth() picks up the meter provider registered before it.
    if (env.METRICS_PORT) metrics = await startMetrics(portFrom(env.METRICS_PORT));
    const logger = jsonLogger(env.LOG_FORMAT);
    const options = {
      ...(logger && { logger }),
      ssoBaseUrl: ssoUrl,
      appBaseUrl: appUrl,
      clientId,
      clientSecret,
      secret,
      ...(cloudApiUrl && { cloud: { apiBaseUrl: cloudApiUrl } }),
      ...(store && { store }),
    };
    // ACCESS_LOG=1: one JSON line per request (tokens redacted), through pino like LOG_FORMAT=json.
    const access = env.ACCESS_LOG === '1' ? accessLog(logger ?? jsonLogger('json')) : undefined;
    const consoleUrl = emulator && `${emulator.url}/console`;
    server.on('request', createApp(options, { accessLog: access, secretAppKey, consoleUrl }));
    return {
      appUrl,
      port: actualPort,
      ssoUrl,
      emulator,
      consoleUrl,
      spiSecretAppKey: secretAppKey,
      metricsUrl: metrics?.url,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

module.exports = { start };

if (require.main === module) {
  start().then(
    ({ appUrl, ssoUrl, emulator, consoleUrl, spiSecretAppKey, metricsUrl, close }) => {
      console.log(`Example app:  ${appUrl}   <- open this in a browser`);
      if (consoleUrl) console.log(`Console:      ${consoleUrl}   (launch the app as a user)`);
      console.log(
        spiSecretAppKey === DEV_SPI_KEY
          ? `AppCenter SPI: ${appUrl}/spi   (secret_app_key "${DEV_SPI_KEY}", development only: set APPCENTER_SECRET_APP_KEY)`
          : `AppCenter SPI: ${appUrl}/spi`,
      );
      if (metricsUrl) console.log(`Metrics:      ${metricsUrl}   (Prometheus)`);
      console.log(
        emulator
          ? `SSO emulator: ${ssoUrl}   (bundled; set SSO_BASE_URL to use a real SSO)`
          : `SSO:          ${ssoUrl}`,
      );
      const stop = () => close().then(() => console.log('Stopped.'));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (err) => {
      console.error(`Cannot start the example app: ${err.message}`);
      process.exitCode = 1;
    },
  );
}
