// Load generators of the benchmark: autocannon for closed-loop load (N connections, each sending
// its next request as soon as the previous one is answered) and a steady open-loop sender.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

/**
 * Figures of one measurement, whatever produced it.
 * @typedef {object} Figures
 * @property {number} seconds   how long the load ran
 * @property {number} rate      2xx answers per second
 * @property {number} p50       latency in ms (every answer, whatever its status)
 * @property {number} p99
 * @property {number} ok        2xx answers
 * @property {number} failed    non-2xx answers, connection errors, time-outs, unanswered requests
 * @property {Record<string, number>} statuses  answers by status code, plus errors/timeouts
 */

/**
 * Closed loop with autocannon: `connections` connections for `seconds`, or until
 * `maxRequests` requests were sent (all connections together; autocannon gives each connection
 * its share), whichever comes first; `overallRate` caps the requests per second with
 * autocannon's own limiter. `url` may be a list of servers of the same application: the
 * connections go to them in turn (50 over 3: 17, 17, 16).
 * @returns {Promise<Figures>}
 */
export async function closedLoop({
  url,
  connections,
  seconds,
  method,
  headers,
  body,
  maxRequests,
  overallRate,
}) {
  const options = { url, connections, duration: seconds, method: method ?? 'GET' };
  if (headers) options.headers = headers;
  if (body !== undefined) options.body = body;
  if (maxRequests) options.maxOverallRequests = Math.max(maxRequests, connections);
  // autocannon's own limiter: each connection sends its share of a second back to back.
  if (overallRate) options.overallRate = overallRate;
  // autocannon counts its duration in whole seconds (it notices a cap at its next sample): the
  // rate is taken over the time from the start to the last answer instead.
  const started = performance.now();
  let lastAnswer = started;
  const result = await new Promise((resolve, reject) => {
    const instance = autocannon(options, (error, done) => (error ? reject(error) : resolve(done)));
    instance.on('response', () => (lastAnswer = performance.now()));
  });
  const statuses = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) {
    statuses[code] = count;
  }
  if (result.errors) statuses.errors = result.errors - result.timeouts;
  if (result.timeouts) statuses.timeouts = result.timeouts;
  const ok = result['2xx'];
  const measured = Math.min(result.duration, (lastAnswer - started) / 1000) || result.duration;
  return {
    seconds: measured,
    rate: ok / measured,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok,
    failed: result.non2xx + result.errors,
    statuses,
  };
}

/**
 * Open loop: sends `rate` requests per second, evenly spaced, for `seconds`, over at most
 * `connections` keep-alive connections, whether or not earlier requests were answered. A request
 * that finds every connection busy waits for one, and its latency counts from the moment it was
 * due, not from when it could be sent (no coordinated omission). Requests still unanswered
 * `graceSeconds` after the last one was due are abandoned and counted as failed.
 * @returns {Promise<Figures & { offered: number, unanswered: number }>}
 */
export async function openLoop({
  url,
  rate,
  seconds,
  connections,
  method = 'GET',
  headers = {},
  body,
  graceSeconds = 5,
}) {
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const payload = body === undefined ? undefined : Buffer.from(body);
  const requestHeaders = { ...headers };
  if (payload) requestHeaders['content-length'] = String(payload.length);
  const total = Math.max(1, Math.round(rate * seconds));
  const latencies = [];
  const statuses = {};
  const pending = new Set();
  let ok = 0;
  let lastAnswer = 0;
  let abandoning = false;

  const count = (key) => (statuses[key] = (statuses[key] ?? 0) + 1);
  const send = (due) => {
    const request = http.request({
      agent,
      host: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      method,
      headers: requestHeaders,
    });
    pending.add(request);
    request.on('response', (response) => {
      response.resume();
      response.on('end', () => {
        const now = performance.now();
        pending.delete(request);
        latencies.push(now - due);
        lastAnswer = now;
        count(String(response.statusCode));
        if (response.statusCode >= 200 && response.statusCode < 300) ok++;
      });
    });
    request.on('error', () => {
      pending.delete(request);
      if (!abandoning) count('errors');
    });
    request.end(payload);
  };

  const start = performance.now();
  let sent = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      while (sent < due) send(start + (sent++ * 1000) / rate);
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  const deadline = start + seconds * 1000 + graceSeconds * 1000;
  while (pending.size > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  abandoning = true;
  for (const request of pending) request.destroy();
  agent.destroy();
  await new Promise((resolve) => setImmediate(resolve));

  latencies.sort((a, b) => a - b);
  const at = (q) => (latencies.length === 0 ? NaN : latencies[Math.ceil(q * latencies.length) - 1]);
  const elapsed = Math.max(lastAnswer, start + seconds * 1000) - start;
  const unanswered = total - latencies.length - (statuses.errors ?? 0);
  if (unanswered > 0) statuses.unanswered = unanswered;
  return {
    seconds: elapsed / 1000,
    offered: rate,
    rate: ok / (elapsed / 1000),
    p50: at(0.5),
    p99: at(0.99),
    ok,
    failed: total - ok,
    unanswered,
    statuses,
  };
}
