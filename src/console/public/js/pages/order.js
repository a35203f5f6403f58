import { ApiError, get, query, request } from '../api.js';
import {
  announce,
  confirmAction,
  describe,
  empty,
  failure,
  h,
  heading,
  loading,
  show,
  statusBadge,
  table,
  time,
} from '../dom.js';
import { followOrder } from '../follow.js';
import { TERMINAL } from '../lifecycle.js';

/**
 * One order's timeline: its facts, its events in order (what caused what, payloads on demand),
 * its payment and notification records, live until its story is over; cancel while allowed.
 */
export function renderOrder(main, id) {
  const live = h(
    'p',
    { class: 'notice', role: 'status', 'aria-live': 'polite' },
    loading('the order'),
  );
  const facts = h('div', {});
  const actions = h('div', { class: 'actions' });
  const actionResult = h('div', { role: 'alert' });
  const events = h('ol', { class: 'timeline', 'aria-label': 'Events, oldest first' });
  const records = h('div', {});
  const rendered = new Map();
  show(
    main,
    h('p', {}, h('a', { href: '#/orders' }, '← Orders')),
    heading(`Order ${id}`),
    live,
    h(
      'div',
      { class: 'split' },
      h(
        'section',
        { 'aria-labelledby': 'events-title' },
        h('h2', { id: 'events-title' }, 'Timeline'),
        events,
      ),
      h(
        'div',
        {},
        h(
          'section',
          { 'aria-labelledby': 'facts-title' },
          h('h2', { id: 'facts-title' }, 'Order'),
          facts,
          actions,
          actionResult,
        ),
        records,
      ),
    ),
  );

  let lastStatus;
  const stop = followOrder(
    id,
    ({ order, events: history, settled }) => {
      if (order.status !== lastStatus && lastStatus !== undefined) {
        announce(`Order is now ${order.status.replaceAll('_', ' ').toLowerCase()}`);
      }
      lastStatus = order.status;
      show(
        live,
        'Status ',
        statusBadge(order.status),
        settled
          ? ' — the order’s story is over.'
          : TERMINAL.has(order.status)
            ? ' — waiting for the customer’s notification; following live.'
            : ' — running; following live.',
      );
      live.dataset.settled = String(settled);
      show(facts, orderFacts(order));
      show(actions, TERMINAL.has(order.status) ? null : cancelButton(order));
      appendEvents(history);
      void loadRecords();
    },
    (error) => {
      show(live, failure(error, 'the order'));
    },
  );

  function appendEvents(history) {
    const byId = new Map(history.map((event) => [event.eventId, event]));
    for (const event of history) {
      if (rendered.has(event.eventId)) continue;
      const item = eventItem(event, byId.get(event.causationId));
      rendered.set(event.eventId, item);
      events.append(item);
    }
  }

  function eventItem(event, cause) {
    return h(
      'li',
      { id: `event-${event.eventId}`, tabindex: '-1', dataset: { type: event.type } },
      h('span', { class: 'type' }, event.type),
      ' ',
      h('span', { class: 'meta' }, '#', String(event.seq), ' · ', time(event.occurredAt)),
      h(
        'div',
        { class: 'meta' },
        cause
          ? [
              'caused by ',
              h(
                'button',
                {
                  type: 'button',
                  class: 'quiet',
                  'aria-label': `caused by ${cause.type} (event ${cause.seq}): go to it`,
                  onclick: () => rendered.get(cause.eventId)?.focus(),
                },
                `${cause.type} #${cause.seq}`,
              ),
            ]
          : event.causationId
            ? ['caused by ', h('code', {}, event.causationId), ' (outside this order)']
            : 'first of its story',
      ),
      h('div', { class: 'meta' }, 'correlation ', h('code', {}, event.correlationId)),
      h(
        'details',
        {},
        h('summary', {}, 'Payload'),
        h('pre', {}, JSON.stringify(event.payload, null, 2)),
        h('p', { class: 'meta' }, 'event id ', h('code', {}, event.eventId)),
      ),
    );
  }

  async function loadRecords() {
    const ordered = query({ orderId: id });
    try {
      const [payments, notifications] = await Promise.all([
        get(`/payments${ordered}`),
        get(`/notifications${ordered}`),
      ]);
      show(
        records,
        h(
          'section',
          { 'aria-labelledby': 'payments-title' },
          h('h2', { id: 'payments-title' }, 'Payments'),
          payments.length === 0
            ? empty('No payment yet.')
            : table(
                'Payments',
                [
                  ['Status', (p) => statusBadge(p.status)],
                  ['Amount', (p) => `${p.amount} ${p.currency}`, 'num'],
                  ['Reason', (p) => p.failureReason ?? '—'],
                  ['At', (p) => time(p.updatedAt ?? p.createdAt)],
                ],
                payments,
              ),
        ),
        h(
          'section',
          { 'aria-labelledby': 'notifications-title' },
          h('h2', { id: 'notifications-title' }, 'Notifications'),
          notifications.length === 0
            ? empty('No notification yet.')
            : table(
                'Notifications',
                [
                  ['Kind', (n) => n.kind],
                  ['Status', (n) => statusBadge(n.status)],
                  ['Subject', (n) => n.subject],
                  ['Sent', (n) => (n.sentAt ? time(n.sentAt) : (n.skipReason ?? '—'))],
                ],
                notifications,
              ),
        ),
      );
    } catch (error) {
      show(records, failure(error, 'the payments and notifications'));
    }
  }

  function cancelButton(order) {
    return h(
      'button',
      {
        type: 'button',
        class: 'danger',
        onclick: async (event) => {
          const button = event.currentTarget;
          const confirmed = await confirmAction({
            title: 'Cancel this order?',
            text: `Order ${order.id} of ${order.customerId} is cancelled and its reserved stock released. This cannot be undone.`,
            confirm: 'Cancel the order',
            danger: true,
          });
          if (!confirmed) return;
          button.disabled = true;
          try {
            await request(`/orders/${encodeURIComponent(order.id)}/cancel`, {
              method: 'POST',
              body: { reason: 'cancelled by an operator' },
            });
            show(actionResult, h('p', { class: 'notice' }, 'The order was cancelled.'));
          } catch (error) {
            const text =
              error instanceof ApiError && error.status === 409
                ? `It can no longer be cancelled: ${describe(error)}`
                : `Could not cancel: ${describe(error)}`;
            show(actionResult, h('p', { class: 'notice error' }, text));
            button.disabled = false;
          }
        },
      },
      'Cancel order…',
    );
  }

  return stop;
}

function orderFacts(order) {
  return h(
    'dl',
    { class: 'facts' },
    h('dt', {}, 'Customer'),
    h('dd', {}, order.customerId),
    h('dt', {}, 'E-mail'),
    h('dd', {}, order.customerEmail ?? '—'),
    h('dt', {}, 'Items'),
    h(
      'dd',
      {},
      order.items
        .map(
          (item) =>
            `${item.quantity} × ${item.productId}${item.unitPrice ? ` at ${item.unitPrice}` : ''}`,
        )
        .join(', '),
    ),
    h('dt', {}, 'Total'),
    h('dd', {}, order.totalAmount ? `${order.totalAmount} ${order.currency}` : '—'),
    order.failureReason ? [h('dt', {}, 'Why it failed'), h('dd', {}, order.failureReason)] : null,
    h('dt', {}, 'Placed'),
    h('dd', {}, time(order.createdAt)),
    h('dt', {}, 'Last change'),
    h('dd', {}, time(order.updatedAt)),
  );
}
