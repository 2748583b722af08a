'use strict';
// Metrics and logs of the example app: what an app sets up BEFORE calling auth(). The package
// itself only uses @opentelemetry/api; the SDK, the exporter and the logger are the app's choice.
const http = require('node:http');

/**
 * Prometheus metrics on http://127.0.0.1:<port>/metrics (0 picks a free port): the OpenTelemetry
 * SDK's MeterProvider registered globally, read by the Prometheus exporter. Resolves to
 * `{ url, close }`.
 */
async function startMetrics(port) {
  const { metrics } = require('@opentelemetry/api');
  const { MeterProvider } = require('@opentelemetry/sdk-metrics');
  const { PrometheusExporter } = require('@opentelemetry/exporter-prometheus');
  // The exporter's handler on our own server: bound to 127.0.0.1, never to every interface.
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  metrics.setGlobalMeterProvider(provider);
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') return exporter.getMetricsRequestHandler(req, res);
    res.statusCode = 404;
    res.end();
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}/metrics`,
    close: async () => {
      await new Promise((resolve) => server.close(() => resolve()));
      await provider.shutdown();
      metrics.disable();
    },
  };
}

/** JSON lines through pino when `LOG_FORMAT=json` (to `stream`, default stdout); otherwise none (the `debug` namespaces). */
function jsonLogger(format, stream = process.stdout) {
  if (format === undefined || format === '') return undefined;
  if (format !== 'json') throw new Error(`LOG_FORMAT must be "json" (or unset); received ${JSON.stringify(format)}`);
  const pino = require('pino');
  return pino({ name: 'express-sso-guard-example' }, stream);
}

/** Query parameters that carry tokens on a launch (the console's `token`, the SaaS redirect's pair). */
const TOKEN_PARAMS = /([?&](?:token|access_token|refresh_token)=)[^&#]*/gi;

/** A URL fit for a log line: the values of token parameters replaced with `[redacted]`. */
function redactUrl(url) {
  return String(url).replace(TOKEN_PARAMS, '$1[redacted]');
}

/**
 * An access log (one pino line per request: method, URL, status, milliseconds) whose URL never
 * holds a launch token. Mount it before auth(): a launch's first request carries the tokens in its
 * query string, and auth() answers it with a redirect at once.
 */
function accessLog(logger) {
  return function accessLogLine(req, res, next) {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      logger.info({ method: req.method, url: redactUrl(req.originalUrl), status: res.statusCode, ms }, 'request');
    });
    next();
  };
}

module.exports = { startMetrics, jsonLogger, redactUrl, accessLog };
