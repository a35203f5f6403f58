/**
 * What the test scripts share to talk to the service over HTTP: one request, polling with a
 * deadline, and the random orders their clients place.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ADMIN_HEADERS } from './auth.mjs';

/**
 * One request to `base` (http://host:port), as an admin; { status, json, text, headers }, json
 * null when the body is not JSON, or null when there was no answer (refused, reset, timed out: the
 * service died, is dying or is busy).
 */
export async function send(
  base,
  method,
  path,
  body,
  { headers: given = {}, timeoutMs = 10_000 } = {},
) {
  const headers = { ...ADMIN_HEADERS, ...given };
  const init = { method, headers, signal: AbortSignal.timeout(timeoutMs) };
  if (body !== undefined) {
    init.headers = { 'content-type': 'application/json', ...headers };
    init.body = JSON.stringify(body);
  }
  try {
    const response = await fetch(base + path, init);
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: response.status, json, text, headers: response.headers };
  } catch {
    return null;
  }
}

/**
 * Runs `attempt` until `done(result)` holds, `intervalMs` apart (a number, or a function of the
 * last result); after `timeoutMs` it gives up. No attempt starts once the deadline has passed, but
 * the first one always runs. Returns { done, result } with the last result.
 */
export async function poll(attempt, { timeoutMs, intervalMs, done }) {
  const deadline = Date.now() + timeoutMs;
  let result;
  do {
    result = await attempt();
    if (done(result)) return { done: true, result };
    await delay(typeof intervalMs === 'function' ? intervalMs(result) : intervalMs);
  } while (Date.now() < deadline);
  return { done: false, result };
}

/**
 * A random order of customer-`customer`: one to three lines of distinct products, taken from
 * `products` (a list, or a function that returns one, called after the number of lines is drawn),
 * of 1 to `maxQuantity` units each; seven in ten give an email address.
 */
export function randomOrder(rng, customer, products, maxQuantity) {
  const lines = rng.int(1, 3);
  const left = typeof products === 'function' ? products() : [...products];
  const items = [];
  for (let i = 0; i < lines && left.length > 0; i++) {
    const [productId] = left.splice(rng.int(0, left.length - 1), 1);
    items.push({ productId, quantity: rng.int(1, maxQuantity) });
  }
  const body = { customerId: `customer-${customer}`, items };
  if (rng() < 0.7) body.customerEmail = `customer-${customer}@example.com`;
  return body;
}

/** What the clients of a test know of the orders they placed, for the checks at the end. */
export class OrderBook {
  /** order id -> what the client keeps of it ({ items } as sent, at least), for every 202 */
  accepted = new Map();
  /** the orders whose cancel was answered 200 */
  cancelled = new Set();
  #ids = [];

  accept(id, record) {
    this.accepted.set(id, record);
    this.#ids.push(id);
  }

  /**
   * The order a cancel goes to: half the time the one just placed (somewhere in its workflow,
   * racing its payment), half any accepted order (most are finished: 409).
   */
  cancelTarget(rng, justPlaced) {
    return rng() < 0.5 ? justPlaced : rng.pick(this.#ids);
  }
}
