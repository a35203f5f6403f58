import { get } from './api.js';

/** How often a running order is asked for again. */
const POLL_MS = 1000;

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
const FINAL_NOTICES = new Set(['OrderConfirmationSent', 'OrderFailureNotificationSent']);

/** The order's story is over: a terminal status, and the customer told of it. */
export function isSettled(order, events) {
  return TERMINAL.has(order.status) && events.some((event) => FINAL_NOTICES.has(event.type));
}

/**
 * Follows an order until its story is over: calls `onUpdate({ order, events, settled })` now and
 * whenever the order or its events change, and `onError(error)` when a read fails (it keeps
 * trying). Returns a function that stops following.
 *
 * The one place that knows how the console learns of changes: it polls GET /orders/{id} and
 * GET /orders/{id}/events; a server push (an event stream of the order) can replace the loop
 * here without the pages knowing.
 */
export function followOrder(id, onUpdate, onError = () => {}) {
  let stopped = false;
  let timer;
  let seen = '';
  const path = `/orders/${encodeURIComponent(id)}`;
  const tick = async () => {
    let settled = false;
    try {
      const [order, events] = await Promise.all([get(path), get(`${path}/events`)]);
      if (stopped) return;
      settled = isSettled(order, events);
      const signature = `${order.status}:${order.updatedAt}:${events.length}`;
      if (signature !== seen) {
        seen = signature;
        onUpdate({ order, events, settled });
      }
    } catch (error) {
      if (stopped) return;
      onError(error);
      // An unknown order will not appear later.
      if (error.status === 404 || error.status === 401 || error.status === 403) return;
    }
    if (!settled && !stopped) timer = setTimeout(() => void tick(), POLL_MS);
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
