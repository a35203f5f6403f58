import { get, query } from '../api.js';
import { empty, failure, h, heading, loading, show, statusBadge, table, time } from '../dom.js';
import { STATUSES } from '../lifecycle.js';

const PAGE_SIZE = 20;

/**
 * Orders, newest first, filtered by status and customer, a page at a time. The filters live in
 * the address (#/orders?status=…&customerId=…), so a filtered list can be bookmarked; the cursors
 * of the pages seen are kept to go back.
 */
export function renderOrders(main, _id, params) {
  const filter = { status: params.get('status') ?? '', customerId: params.get('customerId') ?? '' };
  const cursors = [null];
  const status = h(
    'select',
    { id: 'filter-status', name: 'status' },
    h('option', { value: '' }, 'Any'),
    STATUSES.map((s) => h('option', { value: s, selected: s === filter.status }, s)),
  );
  const customer = h('input', {
    id: 'filter-customer',
    name: 'customerId',
    value: filter.customerId,
    maxlength: 100,
    autocomplete: 'off',
  });
  const form = h(
    'form',
    { class: 'inline', role: 'search', 'aria-label': 'Filter orders' },
    h('div', { class: 'field' }, h('label', { for: 'filter-status' }, 'Status'), status),
    h('div', { class: 'field' }, h('label', { for: 'filter-customer' }, 'Customer id'), customer),
    h('button', { type: 'submit' }, 'Filter'),
    h('button', { type: 'button', class: 'quiet', onclick: () => load(cursors.at(-1)) }, 'Refresh'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = `#/orders${query({ status: status.value, customerId: customer.value.trim() })}`;
  });
  const results = h('div', { 'aria-busy': 'false' });
  // What a screen reader is told after each load: the count, not the whole table again.
  const summary = h('p', { class: 'hint', role: 'status' });
  show(main, heading('Orders'), form, summary, results);

  async function load(cursor) {
    results.setAttribute('aria-busy', 'true');
    show(results, loading('orders'));
    try {
      const page = await get(
        `/orders${query({ ...filter, limit: PAGE_SIZE, cursor: cursor ?? undefined })}`,
      );
      show(results, ...view(page));
      show(
        summary,
        `${page.items.length} order${page.items.length === 1 ? '' : 's'} on page ${cursors.length}` +
          (page.nextCursor ? '; older ones on the next pages' : ''),
      );
    } catch (error) {
      show(results, failure(error, 'the orders'));
    } finally {
      results.setAttribute('aria-busy', 'false');
    }
  }

  function view({ items, nextCursor }) {
    const pageNumber = cursors.length;
    const pager = h(
      'div',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'quiet',
          disabled: pageNumber === 1,
          onclick: () => {
            cursors.pop();
            void load(cursors.at(-1));
          },
        },
        'Newer',
      ),
      h('span', {}, `Page ${pageNumber}`),
      h(
        'button',
        {
          type: 'button',
          class: 'quiet',
          disabled: !nextCursor,
          onclick: () => {
            cursors.push(nextCursor);
            void load(nextCursor);
          },
        },
        'Older',
      ),
    );
    if (items.length === 0) {
      const filtered = filter.status || filter.customerId;
      return [empty(filtered ? 'No order matches these filters.' : 'No orders yet.'), pager];
    }
    return [
      table(
        'Orders, newest first',
        [
          ['Order', (o) => h('a', { href: `#/orders/${o.id}`, class: 'mono' }, o.id)],
          ['Status', (o) => statusBadge(o.status)],
          ['Customer', (o) => o.customerId],
          ['Total', (o) => (o.totalAmount ? `${o.totalAmount} ${o.currency}` : '—'), 'num'],
          ['Placed', (o) => time(o.createdAt), 'hide-narrow'],
        ],
        items,
      ),
      pager,
    ];
  }

  void load(null);
}
