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

module.exports = { startMetrics, jsonLogger };
