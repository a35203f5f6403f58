// oxlint-disable no-console -- this script reports through its progress lines.
/**
 * The operator console in a real browser: headless Chromium (Debian's, CHROMIUM_PATH or
 * /usr/bin/chromium; nothing is downloaded) driven by playwright-core against the built service
 * (dist/main.js) on a fresh SQLite file.
 *
 *   npm run test:browser              (builds first)
 *
 * The service is started twice on the same database and port. First with every payment failing
 * (PAYMENT_TRANSIENT_FAILURE_RATE=1, RETRY_MAX_ATTEMPTS=1), so one order's charge is
 * dead-lettered; then fixed, with slow payments so a running order can be watched finishing.
 * In the browser: a customer token and an invalid one are refused, an admin signs in, orders
 * placed through the API appear, a timeline follows a running order to its end, the dead letter
 * is replayed and its order completes, a product edit meets a stale ETag. Screenshots of each
 * page go to test/browser/screenshots/. Any console error, page error, failed request, answer
 * >= 500 or 4xx answer the test did not provoke fails the run. Exits 0 only when all holds.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { mintToken } from '../../scripts/lib/auth.mjs';
import { poll, send } from '../../scripts/lib/http.mjs';
import {
  CHECKOUT_BUILD,
  exitHandlers,
  freePort,
  serviceEnv,
  ServiceProcess,
} from '../../scripts/lib/processes.mjs';
import { stopwatch } from '../../scripts/lib/report.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const SCREENSHOTS = join(HERE, 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const PAYMENT_LATENCY_MS = 1500;
const DEADLINE_MS = 20_000;
const WHERE = 'test/browser/console.test.mjs';

const elapsed = stopwatch();
const workDir = mkdtempSync(join(tmpdir(), 'console-browser-'));
const port = await freePort();
const service = new ServiceProcess({
  name: 'service',
  port,
  logPath: join(workDir, 'service.log'),
});
let browser;
/** The page, for a screenshot of what it showed when the run failed. */
let openPage;
const crashed = exitHandlers({
  title: 'Browser test',
  where: WHERE,
  running: () => [service],
  cleanUp: async () => {
    await openPage?.screenshot({ path: join(SCREENSHOTS, 'failure.png'), fullPage: true });
    console.log(`service log: ${service.logPath}; the page as it failed: screenshots/failure.png`);
    await browser?.close();
  },
});

function step(text) {
  console.log(`${elapsed()} ${text}`);
}

function check(condition, text) {
  if (!condition) throw new Error(`check failed: ${text}`);
}

/** Starts the service on the run's database and port with `settings`; waits until it answers. */
async function startService(settings) {
  const env = serviceEnv({
    PORT: String(port),
    DATABASE_URL: `sqlite:${join(workDir, 'orders.db')}`,
    LOG_LEVEL: 'warn',
    NOTIFICATION_LATENCY_MS: '5',
    RETRY_BASE_DELAY_MS: '10',
    ...settings,
  });
  service.start({ ...CHECKOUT_BUILD, env });
  check(
    await service.waitReady({ timeoutMs: 30_000, intervalMs: 100 }),
    `the service starts: ${service.exit ? service.exitReport() : ''}`,
  );
}

async function stopService() {
  const problem = await service.stop(10_000);
  check(!problem, problem);
}

/** POST /orders as the admin, for a customer; the order's id. */
async function placeOrder(productId = 'product-1', customerId = 'customer-1') {
  const response = await send(service.base, 'POST', '/orders', {
    customerId,
    customerEmail: `${customerId}@example.com`,
    items: [{ productId, quantity: 1 }],
  });
  check(response?.status === 202, `an order is accepted (got ${response?.status})`);
  return response.json.id;
}

async function main() {
  mkdirSync(SCREENSHOTS, { recursive: true });

  step('first start: every charge fails once and is dead-lettered (RETRY_MAX_ATTEMPTS=1)');
  await startService({
    PAYMENT_LATENCY_MS: '5',
    PAYMENT_FAILURE_RATE: '0',
    PAYMENT_TRANSIENT_FAILURE_RATE: '1',
    RETRY_MAX_ATTEMPTS: '1',
  });
  const poisoned = await placeOrder('product-2', 'customer-poisoned');
  const dead = await poll(() => send(service.base, 'GET', '/admin/dead-letters'), {
    timeoutMs: DEADLINE_MS,
    intervalMs: 100,
    done: (response) => response?.json?.some?.((letter) => letter.streamId === poisoned),
  });
  check(dead.done, `the charge of order ${poisoned} is dead-lettered`);
  await stopService();

  step(`second start: the gateway fixed, payments slow (${PAYMENT_LATENCY_MS} ms)`);
  await startService({ PAYMENT_LATENCY_MS: String(PAYMENT_LATENCY_MS), PAYMENT_FAILURE_RATE: '0' });

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  openPage = page;
  const problems = [];
  /** 4xx answers the test provokes on purpose, as `${status} ${method} ${path}`. */
  const provoked = new Set();
  const seen4xx = new Set();
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  let streamsOpened = 0;
  page.on('requestfailed', (request) => {
    const error = request.failure()?.errorText;
    // An order's event stream is closed by the page when the operator leaves the timeline.
    if (error === 'net::ERR_ABORTED' && new URL(request.url()).pathname.endsWith('/stream')) return;
    problems.push(`request failed: ${request.method()} ${request.url()} ${error}`);
  });
  page.on('response', (response) => {
    if (new URL(response.url()).pathname.endsWith('/stream')) streamsOpened++;
    const status = response.status();
    const what = `${status} ${response.request().method()} ${new URL(response.url()).pathname}`;
    if (status >= 500) problems.push(`answer ${what}`);
    else if (status >= 400) {
      if (provoked.has(what)) seen4xx.add(status);
      else problems.push(`unexpected answer ${what}`);
    }
  });
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // Chromium logs every 4xx answer to fetch as an error; those the test provoked are expected.
    const status = /status of (\d{3})/.exec(message.text())?.[1];
    if (status && seen4xx.has(Number(status))) return;
    problems.push(`console error: ${message.text()}`);
  });
  const base = `${service.base}/console/`;
  const shot = (name) =>
    page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const focusedHeading = () =>
    page.evaluate(
      () => document.activeElement?.tagName === 'H1' && document.activeElement.textContent,
    );

  step('sign-in: a customer token is refused (403), an invalid one with the 401 message');
  provoked.add('403 GET /admin/overview').add('401 GET /admin/overview');
  await page.goto(base);
  await page.getByLabel('Admin token').fill(await mintToken('customer', 'customer-1'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('not an admin’s', { exact: false }).waitFor();
  await shot('sign-in-refused');
  await page.getByLabel('Admin token').fill('not-a-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('The service refused this token (401)', { exact: false }).waitFor();
  check((await page.evaluate(() => sessionStorage.length)) === 0, 'a refused token is not kept');

  step('sign-in as an admin (pasted with a line break, then Enter): the overview, refreshed live');
  const adminToken = await mintToken('admin', 'operator');
  await page
    .getByLabel('Admin token')
    .fill(`${adminToken.slice(0, 40)}\n${adminToken.slice(40)}\n`);
  await page.getByLabel('Admin token').press('Enter');
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  check((await focusedHeading()) === 'Overview', 'the page heading takes the focus');
  await page.getByText('Dead letters open').waitFor();
  const openLetters = page.locator('.card', { hasText: 'Dead letters open' }).locator('dd');
  await waitText(openLetters, '1');
  const completed = page.locator('.card', { hasText: 'Completed, last 5 min' }).locator('dd');
  await waitText(completed, '0');
  const placed = [await placeOrder('product-1'), await placeOrder('product-3', 'customer-2')];
  await waitText(completed, '2');
  await shot('overview');

  step('orders: those placed through the API appear, and the status filter narrows the list');
  await page.getByRole('link', { name: 'Orders' }).click();
  await page.getByRole('heading', { name: 'Orders', level: 1 }).waitFor();
  check((await focusedHeading()) === 'Orders', 'the Orders heading takes the focus');
  for (const id of [...placed, poisoned]) await page.getByRole('link', { name: id }).waitFor();
  await shot('orders');
  await page.getByLabel('Status').selectOption('PAYMENT_PROCESSING');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByRole('link', { name: poisoned }).waitFor();
  // The filtered list replaces the whole one when its answer comes: wait for it, with a deadline.
  const left = await page
    .getByRole('link', { name: placed[1] })
    .waitFor({ state: 'detached', timeout: 5000 })
    .then(() => true)
    .catch(() => false);
  check(left, 'the filter leaves out orders in other statuses');

  step('timeline: a running order followed live until its confirmation is sent');
  const running = await placeOrder('product-1', 'customer-3');
  await page.goto(`${base}#/orders/${running}`);
  const live = page.locator('[data-settled]');
  await live.waitFor();
  check((await live.getAttribute('data-settled')) === 'false', 'the order is seen running first');
  const runningText = await live.textContent();
  check(!runningText.includes('COMPLETED'), `the order is not completed yet (${runningText})`);
  await page.locator('[data-type=OrderConfirmationSent]').waitFor({ timeout: DEADLINE_MS });
  await page.locator('[data-settled=true]').waitFor();
  check((await live.textContent()).includes('COMPLETED'), 'the status turned COMPLETED live');
  check(streamsOpened > 0, "it was followed through the order's event stream");
  const causedBy = page
    .locator('[data-type=OrderCompleted]')
    .getByRole('button', { name: /caused by/ });
  check((await causedBy.count()) === 1, 'OrderCompleted names the event that led to it');
  await causedBy.click();
  check(
    await page.evaluate(
      () =>
        document.activeElement?.dataset.type === 'PaymentSucceeded' ||
        document.activeElement?.dataset.type?.startsWith('Payment'),
    ),
    'following the cause moves the focus to that earlier event',
  );
  await page.locator('[data-type=OrderCreated] summary').click();
  const payload = page.locator('[data-type=OrderCreated] pre');
  await payload.waitFor();
  check((await payload.textContent()).includes('"customerId": "customer-3"'), 'the payload shows');
  await page.getByRole('heading', { name: 'Notifications' }).waitFor();
  await page.getByRole('cell', { name: 'SENT' }).first().waitFor();
  await shot('timeline');
  await page.setViewportSize({ width: 390, height: 844 });
  const wider = await page.evaluate(() =>
    [...document.querySelectorAll('body *')]
      .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 1)
      .filter((element) => !element.closest('.table-wrap, pre'))
      .map((element) => `${element.tagName}.${element.className}`),
  );
  check(wider.length === 0, `the timeline fits a phone-wide screen (wider: ${wider.join(', ')})`);
  await shot('timeline-phone');
  await page.setViewportSize({ width: 1280, height: 860 });

  step('cancel from the timeline, after a confirmation');
  const toCancel = await placeOrder('product-1', 'customer-4');
  await page.goto(`${base}#/orders/${toCancel}`);
  await page.getByRole('button', { name: 'Cancel order…' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel the order' }).click();
  await page.getByText('The order was cancelled.').waitFor();
  await page.locator('[data-type=OrderCancelled]').waitFor({ timeout: DEADLINE_MS });

  step('dead letters: the charge that failed is replayed from the page and its order completes');
  await page.getByRole('link', { name: 'Dead letters' }).click();
  const replay = page.getByRole('button', { name: /^Replay / });
  await replay.first().waitFor();
  check((await replay.count()) === 1, 'one dead letter is listed');
  await page.getByRole('link', { name: poisoned }).waitFor();
  await shot('dead-letters');
  await replay.click();
  await page.getByRole('dialog').getByRole('button', { name: 'Replay' }).click();
  await page.getByText('was handed to', { exact: false }).waitFor();
  await page.getByText('No dead letters', { exact: false }).waitFor();
  const finished = await poll(() => send(service.base, 'GET', `/orders/${poisoned}`), {
    timeoutMs: DEADLINE_MS,
    intervalMs: 200,
    done: (response) => response?.json?.status === 'COMPLETED',
  });
  check(finished.done, `the replayed order completes (${finished.result?.json?.status})`);
  await page.getByLabel('Show replayed ones too').check();
  await page
    .getByRole('cell', { name: /^replayed / })
    .first()
    .waitFor();
  await shot('dead-letters-replayed');

  step('catalog: validation per field, then a stale ETag is refused (412) with a way to reload');
  provoked.add('400 PUT /inventory/product-1').add('412 PUT /inventory/product-1');
  await page.getByRole('link', { name: 'Catalog' }).click();
  await page.getByRole('cell', { name: 'Widget' }).waitFor();
  await shot('catalog');
  await page.getByRole('link', { name: 'Widget' }).click();
  await page.getByLabel('Unit price').waitFor();
  await page.getByLabel('Unit price').fill('12.345');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('at most two decimals, like "20.00"', { exact: false }).first().waitFor();
  check(
    (await page.getByLabel('Unit price').getAttribute('aria-invalid')) === 'true',
    'the field is marked invalid',
  );
  // The API's own limit (MAX_UNIT_PRICE), which the page leaves to it: its error per field.
  await page.getByLabel('Unit price').fill('9999999.00');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Fix the fields marked above.').waitFor();
  check(
    (await page.locator('#unitPrice-error').textContent()).includes('unitPrice'),
    'the API’s problem is shown beside its field',
  );
  const current = await send(service.base, 'GET', '/inventory/product-1');
  const changed = await send(
    service.base,
    'PUT',
    '/inventory/product-1',
    { name: 'Widget (changed meanwhile)', unitPrice: '51.00', available: current.json.available },
    { headers: { 'if-match': current.headers.get('etag') } },
  );
  check(changed?.status === 200, `the product is changed through the API (${changed?.status})`);
  await page.getByLabel('Unit price').fill('55.00');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('[data-conflict]').waitFor();
  await shot('catalog-conflict');
  await page.getByRole('button', { name: 'Reload the product' }).click();
  await waitValue(page.getByLabel('Name'), 'Widget (changed meanwhile)');
  await page.getByLabel('Unit price').fill('55.00');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved.').waitFor();
  await page.getByRole('cell', { name: 'operator' }).first().waitFor();
  const saved = await send(service.base, 'GET', '/inventory/product-1');
  check(saved.json.unitPrice === '55.00', 'the reloaded edit is saved');

  step('sign out: the token is forgotten');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Admin token').waitFor();
  check((await page.evaluate(() => sessionStorage.length)) === 0, 'signing out forgets the token');

  await browser.close();
  browser = undefined;
  await stopService();
  if (problems.length > 0) throw new Error(`the browser saw problems:\n  ${problems.join('\n  ')}`);
  console.log(`${elapsed()} PASS: screenshots in ${SCREENSHOTS}`);
  rmSync(workDir, { recursive: true, force: true });
}

async function waitText(locator, text) {
  await poll(async () => (await locator.textContent())?.trim(), {
    timeoutMs: DEADLINE_MS,
    intervalMs: 100,
    done: (value) => value === text,
  }).then(({ done, result }) => check(done, `"${text}" shown (got "${result}")`));
}

async function waitValue(locator, value) {
  await poll(() => locator.inputValue(), {
    timeoutMs: DEADLINE_MS,
    intervalMs: 100,
    done: (current) => current === value,
  }).then(({ done, result }) => check(done, `"${value}" in the field (got "${result}")`));
}

main().catch(crashed);
