/**
 * Building the page without innerHTML: every text the API sends is set as text, never parsed as
 * markup, so no value from an order or an event can inject anything.
 */

/** An element: `h('a', { href: '#/x', class: 'y' }, 'text', child)`. Null children are skipped. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'style') {
      // Through the CSSOM, which the Content-Security-Policy does not restrict.
      Object.assign(element.style, value);
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces what `element` holds. */
export function show(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/** The page's heading, which takes the focus after a navigation (see main.js). */
export function heading(text) {
  return h('h1', { tabindex: '-1' }, text);
}

export function loading(what) {
  return h('p', { class: 'state', role: 'status' }, `Loading ${what}…`);
}

export function empty(text) {
  return h('p', { class: 'state' }, text);
}

/** An error as the API described it (problem+json detail), or the exception's message. */
export function failure(error, what = 'this') {
  return h(
    'div',
    { class: 'notice error', role: 'alert' },
    h('p', {}, `Could not load ${what}: ${describe(error)}`),
  );
}

export function describe(error) {
  return error?.detail || error?.message || String(error);
}

export function statusBadge(status) {
  return h('span', { class: `badge status-${status}` }, status.replaceAll('_', ' '));
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: 'short',
  timeStyle: 'medium',
});

/** A <time> with the local date and time, the ISO value in `datetime`. */
export function time(iso) {
  if (!iso) return '—';
  return h('time', { datetime: iso, title: iso }, timeFormat.format(new Date(iso)));
}

/** Says `text` to screen readers through the polite live region. */
export function announce(text) {
  const region = document.getElementById('announcer');
  region.textContent = '';
  // A change of the text is what a live region announces: set it on the next frame.
  requestAnimationFrame(() => {
    region.textContent = text;
  });
}

/**
 * Asks for a confirmation in a modal dialog; resolves true when confirmed. The dialog takes the
 * focus, Escape cancels, and the focus goes back where it was.
 */
export function confirmAction({ title, text, confirm, danger = false }) {
  return new Promise((resolve) => {
    const previous = document.activeElement;
    const cancelButton = h('button', { type: 'button', class: 'quiet', value: 'cancel' }, 'Keep');
    const confirmButton = h(
      'button',
      { type: 'submit', class: danger ? 'danger' : undefined, value: 'confirm' },
      confirm,
    );
    const dialog = h(
      'dialog',
      { 'aria-labelledby': 'dialog-title', 'aria-describedby': 'dialog-text' },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: 'dialog-title' }, title),
        h('p', { id: 'dialog-text' }, text),
        h('div', { class: 'actions' }, confirmButton, cancelButton),
      ),
    );
    cancelButton.addEventListener('click', () => dialog.close('cancel'));
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (previous instanceof HTMLElement) previous.focus();
      resolve(dialog.returnValue === 'confirm');
    });
    document.body.append(dialog);
    dialog.showModal();
    cancelButton.focus();
  });
}

/** A table: `columns` are [header, cell(row), className?]. */
export function table(caption, columns, rows) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          columns.map(([header, , className]) =>
            h('th', { scope: 'col', class: className }, header),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((row) =>
          h(
            'tr',
            {},
            columns.map(([, cell, className]) => h('td', { class: className }, cell(row))),
          ),
        ),
      ),
    ),
  );
}

/** Runs `tick` now and every `ms` until the returned function is called. */
export function every(ms, tick) {
  let timer;
  let stopped = false;
  const run = async () => {
    await tick();
    if (!stopped) timer = setTimeout(() => void run(), ms);
  };
  void run();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
