import { ApiError, request, session, whenUnauthorized } from './api.js';
import { announce, describe, h, heading, show } from './dom.js';
import { renderCatalog, renderProduct } from './pages/catalog.js';
import { renderDeadLetters } from './pages/dead-letters.js';
import { renderOrder } from './pages/order.js';
import { renderOrders } from './pages/orders.js';
import { renderOverview } from './pages/overview.js';

/**
 * The console's shell: sign-in, hash routes and focus. Each page is a function
 * `render(main, params)` that fills `main` and may return a function that stops what it runs
 * (polling), called when the operator leaves the page.
 */

const ROUTES = [
  [/^#\/overview$/, renderOverview, 'Overview'],
  [/^#\/orders$/, renderOrders, 'Orders'],
  [/^#\/orders\/([^/]+)$/, renderOrder, 'Order'],
  [/^#\/dead-letters$/, renderDeadLetters, 'Dead letters'],
  [/^#\/catalog$/, renderCatalog, 'Catalog'],
  [/^#\/catalog\/([^/]+)$/, renderProduct, 'Product'],
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const signOutButton = document.getElementById('sign-out');
let leavePage = () => {};

function route() {
  leavePage();
  leavePage = () => {};
  if (!session.token) return renderSignIn();
  nav.hidden = false;
  signOutButton.hidden = false;
  const hash = location.hash.split('?')[0] || '#/overview';
  const match = ROUTES.map(([pattern, render, title]) => [pattern.exec(hash), render, title]).find(
    ([found]) => found,
  );
  if (!match) {
    location.replace('#/overview');
    return;
  }
  const [found, render, title] = match;
  const section = `#/${hash.split('/')[1]}`;
  for (const link of nav.querySelectorAll('a')) {
    if (link.getAttribute('href') === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${title} · Order service console`;
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const stop = render(main, decodeURIComponent(found[1] ?? ''), params);
  leavePage = typeof stop === 'function' ? stop : () => {};
  // A new page: its heading takes the focus, so a screen reader reads where the operator is.
  main.querySelector('h1')?.focus();
}

function renderSignIn(message) {
  nav.hidden = true;
  signOutButton.hidden = true;
  document.title = 'Sign in · Order service console';
  const input = h('textarea', {
    id: 'token',
    name: 'token',
    rows: 4,
    cols: 60,
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': 'token-hint',
  });
  const error = h('div', { id: 'sign-in-error', role: 'alert' });
  const form = h(
    'form',
    { novalidate: true },
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'token' }, 'Admin token'),
      input,
      h(
        'p',
        { class: 'hint', id: 'token-hint' },
        'Paste a bearer token with the admin role (for development: ',
        h('code', {}, 'npm run -s token -- --role admin'),
        '). It is kept in this tab only.',
      ),
    ),
    error,
    h('button', { type: 'submit' }, 'Sign in'),
  );
  // Enter signs in (Shift+Enter still breaks the line): a token is one line.
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    // A token has no whitespace: whatever a paste brought along (line breaks of a wrapped
    // terminal, spaces) goes, and so does a leading "Bearer".
    const token = input.value
      .trim()
      .replace(/^Bearer\s+/i, '')
      .replace(/\s+/g, '');
    if (!token) return refuse('Paste a token first.');
    try {
      await request('/admin/overview', { token });
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 403) {
        return refuse(
          'This token is not an admin’s: the service refused it (403). ' +
            'The console needs a token with the admin role.',
        );
      }
      if (failure instanceof ApiError && failure.status === 401) {
        return refuse(`The service refused this token (401): ${describe(failure)}`);
      }
      return refuse(`Could not reach the service: ${describe(failure)}`);
    }
    session.token = token;
    announce('Signed in');
    if (!location.hash || location.hash === '#/sign-in') location.hash = '#/overview';
    else route();
  });
  function refuse(text) {
    show(error, h('p', { class: 'notice error' }, text));
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
  show(
    main,
    heading('Sign in'),
    message ? h('p', { class: 'notice error', role: 'alert' }, message) : null,
    form,
  );
  if (message) input.setAttribute('aria-invalid', 'true');
  main.querySelector('h1').focus();
}

function signOut(message) {
  session.token = null;
  leavePage();
  leavePage = () => {};
  renderSignIn(message);
}

whenUnauthorized((error) =>
  signOut(`The service no longer accepts your token (401): ${describe(error)}. Sign in again.`),
);
signOutButton.addEventListener('click', () => {
  signOut();
  announce('Signed out');
});
window.addEventListener('hashchange', route);
route();
