/**
 * The load generator process: forked once by bench/run.mjs, it runs autocannon on request
 * (`{ type: 'run', id, url, headers, connections, duration }`) and answers with a summary.
 * It counts the bytes of every Set-Cookie it receives, so "no Set-Cookie on an unchanged
 * session" is measured over the whole run, not sampled.
 */
import autocannon from 'autocannon';

function setCookieBytes(headers) {
  let bytes = 0;
  for (const key of Object.keys(headers)) {
    if (key.length !== 10 || key.toLowerCase() !== 'set-cookie') continue;
    const v = headers[key];
    for (const line of Array.isArray(v) ? v : [v]) bytes += Buffer.byteLength(String(line));
  }
  return bytes;
}

/** Latencies in ms as floats: autocannon's histogram truncates to whole milliseconds. */
class Latencies {
  constructor() {
    this.values = new Float64Array(1 << 16);
    this.n = 0;
  }
  add(ms) {
    if (this.n === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.n++] = ms;
  }
  percentile(p) {
    if (this.n === 0) return 0;
    const sorted = this.values.subarray(0, this.n).sort();
    return sorted[Math.min(this.n - 1, Math.ceil((p / 100) * this.n) - 1)];
  }
}

async function run({ url, path, headers, connections, duration }) {
  let setCookieTotal = 0;
  let withSetCookie = 0;
  let responses = 0;
  const latencies = new Latencies();
  const instance = autocannon({
    url,
    connections,
    duration,
    requests: [
      {
        method: 'GET',
        path,
        headers,
        onResponse(_status, _body, _context, resHeaders) {
          responses++;
          const b = setCookieBytes(resHeaders);
          if (b > 0) {
            setCookieTotal += b;
            withSetCookie++;
          }
        },
      },
    ],
  });
  instance.on('response', (_client, _status, _bytes, responseTime) => latencies.add(responseTime));
  const result = await instance;
  return {
    total: result.requests.total,
    seconds: result.duration,
    rps: result.requests.total / result.duration,
    latency: {
      p50: latencies.percentile(50),
      p99: latencies.percentile(99),
      mean: result.latency.average,
      max: result.latency.max,
    },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches: result.mismatches,
    responses,
    withSetCookie,
    setCookieBytesPerRequest: responses === 0 ? 0 : setCookieTotal / responses,
  };
}

process.on('message', async (msg) => {
  if (msg.type === 'run') {
    try {
      process.send({ type: 'result', id: msg.id, result: await run(msg) });
    } catch (err) {
      process.send({ type: 'result', id: msg.id, error: String(err?.stack ?? err) });
    }
  } else if (msg.type === 'stop') {
    process.exit(0);
  }
});
// The parent went away (crashed, interrupted): do not linger.
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' });
