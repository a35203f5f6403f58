import { ApiError, get, request } from '../api.js';
import {
  announce,
  describe,
  empty,
  failure,
  h,
  heading,
  loading,
  show,
  table,
  time,
} from '../dom.js';

/** The API's rules for a product (src/inventory/http/dto/upsert-product.dto.ts). */
const DECIMAL_AMOUNT = /^(\d{1,10})(?:\.(\d{1,2}))?$/;
const MAX_AVAILABLE = 1_000_000_000;

/** The catalog: price and stock of every product. */
export function renderCatalog(main) {
  const list = h('div', {}, loading('the catalog'));
  show(main, heading('Catalog'), list);
  void (async () => {
    try {
      const products = await get('/inventory');
      show(
        list,
        products.length === 0
          ? empty('The catalog is empty.')
          : table(
              'Products',
              [
                [
                  'Product',
                  (p) => h('a', { href: `#/catalog/${encodeURIComponent(p.productId)}` }, p.name),
                ],
                ['Id', (p) => h('code', {}, p.productId), 'hide-narrow'],
                ['Price', (p) => p.unitPrice, 'num'],
                ['Available', (p) => p.available, 'num'],
                ['Reserved', (p) => p.reserved, 'num'],
                ['Sold', (p) => p.sold, 'num'],
              ],
              products,
            ),
      );
    } catch (error) {
      show(list, failure(error, 'the catalog'));
    }
  })();
}

/** The form's fields, named as the API names them in a problem's `errors`. */
const FIELDS = ['name', 'unitPrice', 'available'];
/** Problems the API answers with a code rather than `errors`, and the field each is about. */
const FIELD_OF_CODE = { PRODUCT_PRICE_ABOVE_MAXIMUM: 'unitPrice' };

/**
 * One product: edit it with If-Match (the ETag read with it), so a change made meanwhile by
 * someone else is never overwritten silently; and its audit.
 */
export function renderProduct(main, productId) {
  const path = `/inventory/${encodeURIComponent(productId)}`;
  const formArea = h('div', {}, loading('the product'));
  const audit = h('div', {});
  show(
    main,
    h('p', {}, h('a', { href: '#/catalog' }, '← Catalog')),
    heading(`Product ${productId}`),
    formArea,
    h(
      'section',
      { 'aria-labelledby': 'audit-title' },
      h('h2', { id: 'audit-title' }, 'Changes'),
      audit,
    ),
  );

  let etag;
  async function load(focusForm = false) {
    try {
      const { data: product, headers } = await request(path);
      etag = headers.get('etag');
      show(formArea, form(product));
      if (focusForm) formArea.querySelector('input')?.focus();
    } catch (error) {
      show(formArea, failure(error, 'the product'));
    }
    void loadAudit();
  }

  async function loadAudit() {
    try {
      const changes = await get(`${path}/audit`);
      show(
        audit,
        changes.length === 0
          ? empty('No change since the catalog was loaded.')
          : table(
              'Changes, newest first',
              [
                ['When', (c) => time(c.changedAt)],
                ['Who', (c) => c.actor],
                [
                  'What',
                  (c) =>
                    c.kind === 'adjust'
                      ? `stock ${c.delta > 0 ? '+' : ''}${c.delta}: ${c.reason}`
                      : 'edited',
                ],
                ['Before', (c) => (c.before ? summary(c.before) : 'created')],
                ['After', (c) => summary(c.after)],
              ],
              changes,
            ),
      );
    } catch (error) {
      show(audit, failure(error, 'the changes'));
    }
  }

  function form(product) {
    const inputs = {
      name: h('input', {
        id: 'name',
        name: 'name',
        value: product.name,
        required: true,
        maxlength: 200,
      }),
      unitPrice: h('input', {
        id: 'unitPrice',
        name: 'unitPrice',
        value: product.unitPrice,
        required: true,
        inputmode: 'decimal',
        'aria-describedby': 'unitPrice-hint',
      }),
      available: h('input', {
        id: 'available',
        name: 'available',
        value: product.available,
        required: true,
        inputmode: 'numeric',
        'aria-describedby': 'available-hint',
      }),
    };
    const errors = Object.fromEntries(
      FIELDS.map((f) => [f, h('p', { class: 'field-error', id: `${f}-error` })]),
    );
    const message = h('div', { role: 'alert' });
    const field = (name, label, hint) =>
      h(
        'div',
        { class: 'field' },
        h('label', { for: name }, label),
        inputs[name],
        hint ? h('p', { class: 'hint', id: `${name}-hint` }, hint) : null,
        errors[name],
      );
    const element = h(
      'form',
      { novalidate: true, 'aria-label': 'Edit the product' },
      field('name', 'Name'),
      field('unitPrice', 'Unit price', 'A decimal with at most two decimals, like 20.00'),
      field(
        'available',
        'Available',
        'Units in stock for new orders, 0 to 1,000,000,000; reserved and sold are kept',
      ),
      h('p', { class: 'hint' }, `Reserved ${product.reserved}, sold ${product.sold}.`),
      message,
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save')),
    );

    function setErrors(problems) {
      for (const name of FIELDS) {
        const text = problems[name];
        errors[name].textContent = text ?? '';
        if (text) {
          inputs[name].setAttribute('aria-invalid', 'true');
          inputs[name].setAttribute('aria-errormessage', `${name}-error`);
        } else {
          inputs[name].removeAttribute('aria-invalid');
          inputs[name].removeAttribute('aria-errormessage');
        }
      }
      const first = FIELDS.find((name) => problems[name]);
      if (first) inputs[first].focus();
      return Boolean(first);
    }

    element.addEventListener('submit', async (event) => {
      event.preventDefault();
      show(message);
      const body = {
        name: inputs.name.value,
        unitPrice: inputs.unitPrice.value.trim(),
        available: inputs.available.value.trim() === '' ? NaN : Number(inputs.available.value),
      };
      if (setErrors(validate(body))) return;
      const button = element.querySelector('button[type=submit]');
      button.disabled = true;
      try {
        const { headers } = await request(path, {
          method: 'PUT',
          body,
          headers: { 'if-match': etag },
        });
        etag = headers.get('etag');
        show(message, h('p', { class: 'notice' }, 'Saved.'));
        announce('Product saved');
        void loadAudit();
      } catch (error) {
        if (error instanceof ApiError && error.status === 412) {
          show(
            message,
            h(
              'div',
              { class: 'notice error', dataset: { conflict: 'true' } },
              h(
                'p',
                {},
                'Someone changed this product after you opened it, so your change was not saved. ',
                'Reload to see the current values, then make your change again.',
              ),
              h('button', { type: 'button', onclick: () => void load(true) }, 'Reload the product'),
            ),
          );
        } else if (error instanceof ApiError && error.status === 400) {
          const byField = {};
          for (const problem of error.problem.errors ?? [])
            byField[problem.field] ??= problem.message;
          const field = FIELD_OF_CODE[error.problem.code];
          if (field) byField[field] ??= describe(error);
          const known = setErrors(byField);
          show(
            message,
            h(
              'p',
              { class: 'notice error' },
              known ? 'Fix the fields marked above.' : `Could not save: ${describe(error)}`,
            ),
          );
        } else {
          show(message, h('p', { class: 'notice error' }, `Could not save: ${describe(error)}`));
        }
      } finally {
        button.disabled = false;
      }
    });
    return element;
  }

  void load();
}

/** The API's validation, checked before sending (the API checks again, and has the last word). */
function validate({ name, unitPrice, available }) {
  const problems = {};
  if (name.length < 1 || name.length > 200) problems.name = 'name must be 1 to 200 characters long';
  if (!DECIMAL_AMOUNT.test(unitPrice)) {
    problems.unitPrice =
      'unitPrice must be a decimal string with at most two decimals, like "20.00"';
  }
  if (!Number.isInteger(available)) problems.available = 'available must be a whole number';
  else if (available < 0) problems.available = 'available must not be less than 0';
  else if (available > MAX_AVAILABLE)
    problems.available = `available must not be greater than ${MAX_AVAILABLE}`;
  return problems;
}

function summary(fields) {
  return `${fields.name}, ${fields.unitPrice}, ${fields.available} available`;
}
