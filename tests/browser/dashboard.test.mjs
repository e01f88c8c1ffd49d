// Drives repute's dashboard in headless Chromium: the attention list shows
// the paused account, its page says it is paused and shows its rates; a
// viewer sees no action buttons and gets 403 from the API; an operator
// (REPUTE_OPERATOR_TOKEN) resumes the paused account from its page, sees
// the action pending, then the status change. Tenants (the example's hooli
// stays HEALTHY while its tenant promotions is paused): the attention list
// shows the tenant with its account, hooli's page lists its tenants, and
// the tenant's page shows its status, rates and notifications, with the
// issues' actions but not the account's own.
// Screenshots of both pages go to $SCREENSHOT_DIR (default ./out/).
//
//   REPUTE_URL=http://127.0.0.1:8080/ node tests/browser/dashboard.test.mjs
//
// Plain node, no test runner: exits 0 when every check passes, 1 otherwise.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const url = process.env.REPUTE_URL || 'http://127.0.0.1:8080/';
const outDir = resolve(process.env.SCREENSHOT_DIR || join(here, 'out'));
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = Number(process.env.TEST_TIMEOUT_MS || 20000);
mkdirSync(outDir, { recursive: true });

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
}

const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  page.setDefaultTimeout(TIMEOUT);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    // A 404 (the unknown account below) is logged by the browser itself.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
  });
  const external = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== new URL(url).origin) external.push(r.url());
  });

  // The page's own security headers.
  const first = await page.goto(url, { waitUntil: 'domcontentloaded' });
  const csp = first.headers()['content-security-policy'] || '';
  check(csp.includes("default-src 'none'") && csp.includes("script-src 'self'"), `strict CSP (${csp.slice(0, 40)}...)`);

  // With tokens (run.sh's default), the API answers 401 and the page asks
  // for a token; a wrong one is refused, the right one lets it in.
  const token = process.env.REPUTE_TOKEN;
  if (token) {
    const form = page.getByTestId('page-signin');
    await form.waitFor({ state: 'visible' });
    check(true, 'a 401 shows the sign-in form');
    await page.getByTestId('token-input').fill('rpt_not_a_valid_token');
    await page.getByTestId('sign-in').click();
    const err = page.getByTestId('signin-error');
    await err.waitFor({ state: 'visible' });
    check(/not accepted/i.test(await err.textContent()), 'a wrong token is refused with a message');
    await page.getByTestId('token-input').fill(token);
    await page.getByTestId('sign-in').click();
    await form.waitFor({ state: 'hidden' });
    const kept = await page.evaluate(() => [sessionStorage.getItem('repute.token'), document.cookie]);
    check(kept[0] === token && kept[1] === '', 'the token is in session storage, no cookie is set');
    await page.getByTestId('sign-out').waitFor({ state: 'visible' });
  }

  // The attention list, with the paused account in it.
  const list = page.getByTestId('attention-list');
  await list.waitFor({ state: 'visible' });
  const pausedRow = list.locator('[data-testid="attention-row"][data-status="SENDING_PAUSED"]').first();
  await pausedRow.waitFor();
  const pausedId = await pausedRow.getAttribute('data-account-id');
  check(Boolean(pausedId), `attention list shows a paused account (${pausedId})`);
  const count = await page.getByTestId('count-SENDING_PAUSED').locator('b').textContent();
  check(Number(count.replace(/\D/g, '')) >= 1, `summary counts at least one paused account (${count})`);
  await page.screenshot({ path: join(outDir, 'attention-list.png') });

  // Its account page.
  await pausedRow.getByTestId('account-link').click();
  await page.waitForURL(/#\/account\//);
  const status = page.getByTestId('account-status');
  await status.waitFor();
  await page.waitForFunction(
    (id) => document.querySelector('[data-testid="account-id"]')?.textContent === id, pausedId);
  check(await status.getAttribute('data-status') === 'SENDING_PAUSED', 'account status is SENDING_PAUSED');
  const statusText = (await status.textContent()).trim();
  check(/paused/i.test(statusText), `account status reads "${statusText}"`);
  const summary = (await page.getByTestId('account-summary').textContent()).trim();
  check(/can't send|cannot send/i.test(summary), `plain-words summary: "${summary.slice(0, 80)}..."`);

  const rates = {};
  for (const key of ['bounce', 'complaint']) {
    const el = page.getByTestId(`${key}-rate`);
    await el.waitFor();
    rates[key] = { text: (await el.textContent()).trim(), value: await el.getAttribute('data-rate') };
  }
  const shown = Object.entries(rates).filter(([, r]) => /^\d+(\.\d+)?%$/.test(r.text) && r.value !== '');
  check(shown.length >= 1, `a rate is displayed (bounce ${rates.bounce.text}, complaint ${rates.complaint.text})`);
  for (const [key, r] of Object.entries(rates)) {
    if (r.value === '') check(/not enough volume/i.test(r.text), `${key} rate without volume says so`);
    else check(Math.abs(parseFloat(r.text) - Number(r.value) * 100) < 0.1, `${key} rate ${r.text} matches ${r.value}`);
  }
  check(await page.locator('[data-testid="gauge"]').count() === 2, 'two gauges drawn');
  check(await page.locator('[data-testid="chart"]').count() >= 1, 'rate chart drawn');
  check(await page.locator('[data-testid="issue"]').count() >= 1, 'open issues listed');
  const notes = page.locator('[data-testid="notification"]');
  check(await notes.count() >= 1, `notifications listed (${await notes.count()})`);
  check(await page.locator('[data-testid="notification"][data-stage="SENDING_PAUSED"]').count() >= 1,
    'a SENDING_PAUSED notification is shown');
  await page.screenshot({ path: join(outDir, 'account.png') });
  await page.screenshot({ path: join(outDir, 'account-full.png'), fullPage: true });

  // A poll later, the page still shows the same thing (no blanking).
  await page.waitForTimeout(2500);
  check(await status.getAttribute('data-status') === 'SENDING_PAUSED', 'still paused after a poll');

  // A viewer (or an open, read-only API) sees no action buttons, and the
  // API refuses a viewer's action.
  check(await page.locator('button[data-act]').count() === 0, 'no action buttons for a viewer');
  const viewerPost = await page.evaluate(async ([id, t]) => {
    const r = await fetch(`v1/accounts/${encodeURIComponent(id)}/actions`, {
      method: 'POST', credentials: 'omit',
      headers: { 'Content-Type': 'application/json', ...(t ? { Authorization: `Bearer ${t}` } : {}) },
      body: JSON.stringify({ action: 'RESUME_SENDING', note: 'from the test' }) });
    return [r.status, await r.text()];
  }, [pausedId, token || '']);
  check(viewerPost[0] === 403, `the API answers a viewer's action 403 (${viewerPost[0]}: ${viewerPost[1].trim().slice(0, 80)})`);
  const accountUrl = page.url();

  // Tenants: the paused tenant in the attention list, with its account.
  await page.goto(url.replace(/#.*$/, '') + '#/');
  const tenantRow = page.locator('[data-testid="attention-row"][data-tenant="promotions"]');
  await tenantRow.waitFor();
  check(await tenantRow.getAttribute('data-account-id') === 'hooli' &&
    await tenantRow.getAttribute('data-status') === 'SENDING_PAUSED', 'the attention list shows hooli\'s tenant promotions paused');
  check(await page.locator('[data-testid="attention-row"][data-account-id="hooli"]:not([data-tenant])').count() === 0,
    'hooli itself (HEALTHY) is not in the attention list');
  await page.screenshot({ path: join(outDir, 'attention-list-tenant.png') });
  // hooli's page: HEALTHY, its tenants listed with their statuses.
  await page.goto(url.replace(/#.*$/, '') + '#/account/hooli');
  await page.waitForFunction(() => document.querySelector('[data-testid="account-id"]')?.textContent === 'hooli');
  check(await status.getAttribute('data-status') === 'HEALTHY', 'hooli is HEALTHY');
  const promo = page.locator('[data-testid="tenant"][data-tenant="promotions"]');
  await promo.waitFor();
  check(await promo.getAttribute('data-status') === 'SENDING_PAUSED', 'hooli\'s page shows its tenant promotions paused');
  check(await page.locator('[data-testid="tenant"]').count() === 2, 'hooli\'s two tenants are listed');
  await page.screenshot({ path: join(outDir, 'account-tenants.png'), fullPage: true });
  // The tenant's page.
  await promo.getByTestId('tenant-link').click();
  await page.waitForURL(/#\/account\/hooli\/tenant\/promotions$/);
  await page.getByTestId('tenant-name').waitFor();
  check((await page.getByTestId('tenant-name').textContent()) === 'promotions', 'the tenant page names the tenant');
  await page.waitForFunction(() => document.querySelector('[data-testid="account-status"]')?.dataset.status === 'SENDING_PAUSED');
  check(true, 'the tenant page shows it SENDING_PAUSED');
  check(await page.getByTestId('tenant-account-status').getAttribute('class') === 'badge s-HEALTHY', 'and its account HEALTHY');
  check(/tenant's mail can't be sent/.test(await page.getByTestId('account-summary').textContent()), 'the summary speaks of the tenant\'s mail');
  check(await page.locator('[data-testid="gauge"]').count() === 2, 'the tenant page draws two gauges');
  check(await page.locator('[data-testid="chart"]').count() >= 1, 'the tenant page draws a rate chart');
  check(await page.locator('[data-testid="issue"]').count() >= 1, 'the tenant\'s open issues are listed');
  await page.locator('[data-testid="notification"][data-stage="SENDING_PAUSED"]').first().waitFor();
  check(/promotions/.test(await page.locator('[data-testid="notification"]').first().textContent()), 'the tenant\'s notifications name it');
  await page.screenshot({ path: join(outDir, 'tenant.png'), fullPage: true });

  // An unknown account gets the server's message, not a blank page.
  await page.goto(`${url.replace(/#.*$/, '')}#/account/${encodeURIComponent('no such account \u00e9/1')}`);
  await page.getByTestId('account-not-found').waitFor();
  check(true, 'unknown account shows the not-found message');

  // An operator resumes the paused account from its page.
  const opToken = process.env.REPUTE_OPERATOR_TOKEN;
  if (opToken) {
    await page.goto(accountUrl);
    await page.getByTestId('sign-out').click();
    await page.getByTestId('page-signin').waitFor({ state: 'visible' });
    await page.getByTestId('token-input').fill(opToken);
    await page.getByTestId('sign-in').click();
    await page.getByTestId('page-signin').waitFor({ state: 'hidden' });
    await page.waitForFunction(
      (id) => document.querySelector('[data-testid="account-id"]')?.textContent === id, pausedId);
    const resume = page.locator('button[data-act="RESUME_SENDING"]').first();
    await resume.waitFor();
    check(true, `an operator sees the action buttons (${await page.locator('button[data-act]').count()})`);
    check(await page.getByTestId('account-actions').count() === 1, 'the account\'s own actions are offered');
    await resume.click();
    const dialog = page.getByTestId('act-dialog');
    await dialog.waitFor({ state: 'visible' });
    const says = await page.getByTestId('act-say').textContent();
    check(/Sending resumes/.test(says), `the confirmation says what will happen: "${says.slice(0, 70)}..."`);
    // Without the note it needs, the API's 400 is shown (the browser's own
    // check is bypassed by the test to reach the server).
    await page.evaluate(() => { document.getElementById('act-note').required = false; });
    await page.getByTestId('act-confirm').click();
    const actErr = page.getByTestId('act-error');
    await actErr.waitFor({ state: 'visible' });
    check(/note: required/.test(await actErr.textContent()), `a missing note is refused: "${(await actErr.textContent()).slice(0, 60)}"`);
    await page.getByTestId('act-note').fill('The owner removed the purchased list (browser test).');
    await page.getByTestId('act-confirm').click();
    await dialog.waitFor({ state: 'hidden' });
    const pend = page.getByTestId('pending');
    await pend.first().waitFor();
    check(/pending until/.test(await pend.first().textContent()), `the action shows as pending: "${(await pend.first().textContent()).slice(0, 70)}"`);
    await page.screenshot({ path: join(outDir, 'account-pending.png') });
    await page.waitForFunction(
      () => document.querySelector('[data-testid="account-status"]')?.dataset.status !== 'SENDING_PAUSED', null,
      { timeout: 30000 });
    const after = await status.getAttribute('data-status');
    check(after !== 'SENDING_PAUSED', `the status changed after the action (${after})`);
    await page.waitForFunction(() => !document.querySelector('[data-testid="pending"]'), null, { timeout: 10000 });
    check(true, 'the pending note is gone once the change arrived');
    // The history's timeline: the resume, by the operator's token name,
    // with its note, below the status change it caused (newest first).
    await page.waitForFunction(
      () => document.querySelector('[data-testid="history-entry"][data-action="RESUME_SENDING"]'), null, { timeout: 10000 });
    const resumed = page.locator('[data-testid="history-entry"][data-action="RESUME_SENDING"]').first();
    check(await resumed.getByTestId('history-actor').textContent() === 'oscar', 'the history names the operator who resumed it');
    check(/purchased list/.test(await resumed.getByTestId('history-note').textContent()), 'the history shows the action\'s note');
    const kinds = await page.locator('[data-testid="history-entry"]').evaluateAll((els) => els.map((e) => e.dataset.kind));
    const firstAction = kinds.indexOf('action');
    check(firstAction > 0 && kinds.slice(0, firstAction).includes('status_change'),
      `newest first: the status change is above the action (${kinds.slice(0, 4).join(', ')})`);
    await page.screenshot({ path: join(outDir, 'account-resumed.png'), fullPage: true });

    // On a tenant's page: the issues' actions, not the account's own.
    await page.goto(url.replace(/#.*$/, '') + '#/account/hooli/tenant/promotions');
    await page.getByTestId('tenant-name').waitFor();
    await page.locator('button[data-act="RESUME_SENDING"]').first().waitFor();
    check(await page.getByTestId('account-actions').count() === 0, 'a tenant\'s page offers no account-level actions');
    await page.locator('button[data-act="RESUME_SENDING"]').first().click();
    await page.getByTestId('act-dialog').waitFor({ state: 'visible' });
    check(/tenant alone/.test(await page.getByTestId('act-say').textContent()), 'the confirmation says it acts on the tenant alone');
    await page.getByTestId('act-note').fill('The tenant\'s list was cleaned (browser test).');
    await page.getByTestId('act-confirm').click();
    await page.getByTestId('act-dialog').waitFor({ state: 'hidden' });
    await page.waitForFunction(
      () => document.querySelector('[data-testid="account-status"]')?.dataset.status !== 'SENDING_PAUSED', null,
      { timeout: 30000 });
    check(true, `the tenant's status changed after the action (${await status.getAttribute('data-status')})`);
    await page.waitForFunction(
      () => document.querySelector('[data-testid="history-entry"][data-action="RESUME_SENDING"]'), null, { timeout: 10000 });
    check(await page.locator('[data-testid="history-entry"][data-action="RESUME_SENDING"] [data-testid="history-actor"]').first().textContent() === 'oscar',
      'the tenant\'s history names the operator too');
  }

  check(pageErrors.length === 0, `no page errors${pageErrors.length ? `: ${pageErrors.join(' | ')}` : ''}`);
  check(external.length === 0, `nothing fetched from elsewhere${external.length ? `: ${external.join(' ')}` : ''}`);
} catch (e) {
  check(false, `unexpected error: ${e.message}`);
} finally {
  await browser.close();
}
console.log(failures ? `${failures} check(s) failed` : `all checks passed; screenshots in ${outDir}`);
process.exit(failures ? 1 : 0);
