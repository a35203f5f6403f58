import { ApiError, get, session } from './api.js';
import { TERMINAL } from './lifecycle.js';

/** How long to wait before following again after a failed read. */
const RETRY_MS = 1000;

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
 * It reads the order's event stream (GET /orders/{id}/stream, Server-Sent Events) with fetch,
 * since EventSource cannot send the bearer token: each event arrives as it is stored, and the
 * order is read again when its status changes. The server ends the stream when the story is over,
 * or after its longest duration; then the stream is opened again after the last event seen.
 */
export function followOrder(id, onUpdate, onError = () => {}) {
  const path = `/orders/${encodeURIComponent(id)}`;
  const abort = new AbortController();
  const events = [];
  let order;
  let timer;

  const publish = () => onUpdate({ order, events: [...events], settled: isSettled(order, events) });

  const follow = async () => {
    try {
      if (!order) order = await get(path);
      const last = events.at(-1);
      const response = await fetch(`${path}/stream`, {
        headers: {
          accept: 'text/event-stream',
          authorization: `Bearer ${session.token}`,
          ...(last ? { 'last-event-id': String(last.seq) } : {}),
        },
        cache: 'no-store',
        signal: abort.signal,
      });
      if (!response.ok) {
        const problem = await response.json().catch(() => null);
        throw new ApiError(response.status, problem);
      }
      if (events.length === 0) publish();
      for await (const message of messages(response.body)) {
        if (message.event === 'status') {
          // The stream's status is the one after the event just sent; the rest is read again.
          order = { ...(await get(path)), status: JSON.parse(message.data).status };
        } else {
          const event = JSON.parse(message.data);
          delete event.status;
          events.push(event);
        }
        publish();
      }
      if (isSettled(order, events)) return;
    } catch (error) {
      if (abort.signal.aborted) return;
      onError(error);
      // An unknown order will not appear later, and a refused token stays refused.
      if ([401, 403, 404].includes(error.status)) return;
      timer = setTimeout(() => void follow(), RETRY_MS);
      return;
    }
    if (!abort.signal.aborted) void follow();
  };
  void follow();
  return () => {
    abort.abort();
    clearTimeout(timer);
  };
}

/** The messages of a text/event-stream body: `{ event, data, id }` each; comments are skipped. */
async function* messages(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let message = { event: 'message', data: '' };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, end).replace(/\r$/, '');
      buffer = buffer.slice(end + 1);
      if (line === '') {
        if (message.data) yield message;
        message = { event: 'message', data: '' };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') message.data += message.data ? `\n${text}` : text;
      else if (field === 'event') message.event = text;
      else if (field === 'id') message.id = text;
    }
  }
}
