import { get } from '../api.js';
import { every, failure, h, heading, loading, show, statusBadge, table } from '../dom.js';
import { ACTIVE } from '../lifecycle.js';

/** How often the overview asks again. */
const REFRESH_MS = 3000;

const ROLES = {
  'through the broker': 'Delivers events through RabbitMQ, with every other instance',
  delivering: 'Holds the delivery lease: it delivers the events',
  'standing by': 'Stands by to take over delivery if the delivering instance stops',
};

/** Orders by status, throughput, outbox lag, dead letters and the instance, refreshed live. */
export function renderOverview(main) {
  const body = h('div', {}, loading('the overview'));
  const updated = h('p', { class: 'hint' });
  show(main, heading('Overview'), updated, body);
  return every(REFRESH_MS, async () => {
    try {
      const overview = await get('/admin/overview');
      show(body, ...view(overview));
      show(updated, 'Refreshed every few seconds; last at ', new Date().toLocaleTimeString());
    } catch (error) {
      show(body, failure(error, 'the overview'));
    }
  });
}

function view({ ordersByStatus, perMinute, outbox, deadLetters, instance }) {
  const running = [...ACTIVE].reduce((total, status) => total + (ordersByStatus[status] ?? 0), 0);
  const lastFive = perMinute.slice(-5);
  const ended = (key) => lastFive.reduce((total, minute) => total + minute[key], 0);
  return [
    h(
      'section',
      { 'aria-labelledby': 'health-title' },
      h('h2', { id: 'health-title' }, 'Now'),
      h(
        'dl',
        { class: 'cards' },
        card('Orders running', running),
        card('Completed, last 5 min', ended('completed')),
        card('Failed, last 5 min', ended('failed')),
        card('Events waiting', outbox.waiting),
        card('Oldest waiting', `${outbox.oldestSeconds} s`),
        card(
          'Dead letters open',
          deadLetters.open > 0
            ? h('a', { href: '#/dead-letters' }, String(deadLetters.open))
            : String(deadLetters.open),
        ),
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'status-title' },
      h('h2', { id: 'status-title' }, 'Orders by status'),
      table(
        'Orders by status',
        [
          [
            'Status',
            ([status]) => h('a', { href: `#/orders?status=${status}` }, statusBadge(status)),
          ],
          ['Orders', ([, count]) => count, 'num'],
        ],
        Object.entries(ordersByStatus),
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'throughput-title' },
      h('h2', { id: 'throughput-title' }, 'Orders ended per minute, last 15 minutes'),
      chart(perMinute),
    ),
    h(
      'section',
      { 'aria-labelledby': 'instance-title' },
      h('h2', { id: 'instance-title' }, 'Instance'),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Role'),
        h('dd', {}, instance.role, ' — ', ROLES[instance.role] ?? ''),
        h('dt', {}, 'Broker'),
        h('dd', {}, instance.broker),
        h('dt', {}, 'Events in memory'),
        h('dd', {}, String(instance.backlog)),
      ),
    ),
  ];
}

function card(label, value) {
  return h('div', { class: 'card' }, h('dt', {}, label), h('dd', {}, value));
}

/** Stacked bars for the eye, and the same numbers as a table for screen readers. */
function chart(perMinute) {
  const highest = Math.max(1, ...perMinute.map((m) => m.completed + m.failed + m.cancelled));
  const part = (key, value) =>
    value > 0 ? h('span', { class: key, style: { height: `${(100 * value) / highest}%` } }) : null;
  return h(
    'figure',
    { style: { margin: '0' } },
    h(
      'div',
      { class: 'bars', 'aria-hidden': 'true' },
      perMinute.map((m) =>
        h(
          'div',
          {
            class: 'bar',
            title: `${m.minute.slice(11)} UTC: ${m.completed} completed, ${m.failed} failed, ${m.cancelled} cancelled`,
          },
          part('completed', m.completed),
          part('failed', m.failed),
          part('cancelled', m.cancelled),
        ),
      ),
    ),
    h(
      'figcaption',
      { class: 'legend' },
      h('span', {}, h('i', { style: { background: 'var(--ok)' } }), 'completed'),
      h('span', {}, h('i', { style: { background: 'var(--bad)' } }), 'failed'),
      h('span', {}, h('i', { style: { background: 'var(--muted)' } }), 'cancelled'),
      h(
        'span',
        {},
        `minutes (UTC) ${perMinute[0]?.minute.slice(11)} to ${perMinute.at(-1)?.minute.slice(11)}`,
      ),
    ),
    h(
      'details',
      {},
      h('summary', {}, 'The numbers'),
      table(
        'Orders ended per minute',
        [
          ['Minute (UTC)', (m) => m.minute.slice(11)],
          ['Completed', (m) => m.completed, 'num'],
          ['Failed', (m) => m.failed, 'num'],
          ['Cancelled', (m) => m.cancelled, 'num'],
        ],
        perMinute,
      ),
    ),
  );
}
