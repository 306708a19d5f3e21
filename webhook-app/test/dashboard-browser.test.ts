/**
 * The dashboard of a hosted Wharf in headless Chromium: signing in with GitHub (a strict fake of its OAuth flow) and
 * coming back to the page asked for, every page checked by axe-core and photographed (light, dark, phone width),
 * keyboard use, actions confirmed and gated by role (and refused by the API when forced), live updates and the
 * "reconnecting" state when the stream is lost, an expired session, and API errors that say what to do.
 */
import { startFakeGitHubOAuth, startFakeStripe } from '@wharf/testkit';
import { sql } from '@wharf/store';
import type { Page } from 'playwright-core';
import t from 'tap';
import { describeViolations, launchChromium, markPage, notReloaded, screenshot, seriousViolations } from './helpers/browser.js';
import { createStripeClient, syncCatalog } from '../src/index.js';
import { INSTALLATION_ID, startDashboardHarness } from './helpers/dashboard-harness.js';

const CLIENT = { clientId: 'Iv1.dashboardtest', clientSecret: 'dashboard-test-client-secret' };

t.test('the dashboard in a browser (hosted)', async (t) => {
  const oauth = await startFakeGitHubOAuth(CLIENT);
  t.teardown(() => oauth.close());
  const h = await startDashboardHarness(t, {
    GITHUB_CLIENT_ID: CLIENT.clientId,
    GITHUB_CLIENT_SECRET: CLIENT.clientSecret,
    GITHUB_OAUTH_URL: oauth.url,
    GITHUB_API_URL: oauth.url,
  });
  const browser = await launchChromium(t);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  oauth.signInAs({ id: 1, login: 'alice', name: 'Alice', installations: [{ id: Number(INSTALLATION_ID), account: { login: 'acme', type: 'Organization' } }], organizations: { acme: 'admin' } });
  const { env } = h.seeded;

  const checkPage = async (page: Page, name: string) => {
    await page.waitForSelector('main h1');
    const v = await seriousViolations(page);
    t.same(v.map((x) => x.id), [], `${name}: axe finds no serious violations${v.length ? `\n${describeViolations(v)}` : ''}`);
    await screenshot(page, name);
  };

  await t.test('signing in with GitHub comes back to the page asked for', async (t) => {
    await page.goto(`${h.url}/environments/${env.production}`);
    await page.waitForURL(/\/sign-in\?next=/);
    await page.getByRole('heading', { name: 'Sign in to Wharf' }).waitFor();
    await checkPage(page, 'sign-in');
    await page.getByRole('link', { name: 'Sign in with GitHub' }).click();
    await page.waitForURL(`${h.url}/environments/${env.production}`);
    await page.getByRole('heading', { name: 'shop/production' }).waitFor();
    t.same(oauth.refused, [], 'the fake GitHub saw only requests it accepts');
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'wharf_session');
    t.ok(session?.httpOnly, 'the session cookie is HTTP-only');
  });

  await t.test('every page: content, axe-core, screenshot', async (t) => {
    await page.goto(`${h.url}/`);
    await page.locator('[data-env="shop/production"]').waitFor();
    t.equal(await page.locator('.env-card').count(), 4, 'four environments of this organization (none of globex)');
    t.match(await page.locator('[data-env="admin/production"] .state').innerText(), /Degraded \(RuntimeUnhealthy\)/, 'the one-word state as the CLI says it');
    t.match(await page.locator('[data-env="shop/production"]').innerText(), /octocat/, 'who deployed it last');
    await checkPage(page, 'overview');

    await page.locator('[data-env="shop/production"] a.env-name').click();
    await page.getByRole('heading', { name: 'shop/production' }).waitFor();
    await page.locator('.history').getByText(`rollback to ${h.seeded.shas.first.slice(0, 7)} (First version)`).waitFor();
    t.ok(await page.locator('.timeline .mark-rollback').count(), 'the timeline marks the rollback');
    t.ok(await page.locator('.timeline .mark-failed').count(), 'and the failure');
    t.ok(await page.getByRole('button', { name: 'Redeploy' }).isVisible(), 'an owner may deploy');
    await checkPage(page, 'environment');

    await page.goto(`${h.url}/versions/${h.seeded.versions.broken}`);
    const link = page.getByRole('link', { name: /shop\/workflow\.yaml:12:5/ }).first();
    await link.waitFor();
    t.equal(await link.getAttribute('href'), `https://github.com/acme/shop/blob/${h.seeded.shas.broken}/shop/workflow.yaml#L12`, 'a diagnostic links to its line on GitHub');
    await checkPage(page, 'version');

    await page.goto(`${h.url}/pull-requests`);
    await page.getByText('Shout louder').waitFor();
    t.ok(await page.getByRole('button', { name: 'Approve preview of #7' }).isVisible(), 'a fork waits for a maintainer');
    await checkPage(page, 'pull-requests');

    await page.goto(`${h.url}/agents`);
    await page.getByRole('heading', { name: 'Pool edge' }).waitFor();
    await checkPage(page, 'agents');

    await page.goto(`${h.url}/audit?actor=${encodeURIComponent('github:octocat')}`);
    await page.locator('table.audit tbody tr').first().waitFor();
    t.equal(await page.locator('table.audit tbody tr').count(), 1, 'the filter from the address applies');
    await checkPage(page, 'audit');

    await page.goto(`${h.url}/billing`);
    await page.getByRole('heading', { name: 'Projected invoice' }).waitFor();
    t.match(await page.getByRole('meter', { name: 'Seats' }).getAttribute('aria-valuetext'), /3 of 20/, 'seats against the Pro limit');
    await page.getByText('Billing is not set up on this Wharf (STRIPE_SECRET_KEY)').waitFor();
    t.ok(await page.getByRole('button', { name: 'Upgrade to Business' }).isDisabled(), 'without Stripe, Upgrade is off and says why');
    await checkPage(page, 'billing');

    for (const tab of ['members', 'roles', 'keys']) {
      await page.goto(`${h.url}/settings/${tab}`);
      await page.waitForSelector('main table, main form');
      await checkPage(page, `settings-${tab}`);
    }
  });

  await t.test('an API key is shown once', async (t) => {
    await page.goto(`${h.url}/settings/keys`);
    await page.getByLabel('Name').fill('deploy gate');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = await page.getByTestId('new-key').innerText();
    t.match(secret, /^wharf_/);
    await screenshot(page, 'settings-key-created');
    await page.reload();
    await page.getByRole('rowheader', { name: /deploy gate/ }).waitFor();
    t.notOk(await page.getByText(secret).count(), 'after a reload only the prefix is left');
  });

  await t.test('keyboard: skip link, then navigation without a mouse', async (t) => {
    await page.goto(`${h.url}/`);
    await page.locator('.env-card').first().waitFor();
    await page.keyboard.press('Tab');
    t.equal(await page.evaluate('document.activeElement && document.activeElement.textContent'), 'Skip to content');
    await markPage(page);
    let found = false;
    for (let i = 0; i < 30 && !found; i++) {
      await page.keyboard.press('Tab');
      found = (await page.evaluate('document.activeElement && document.activeElement.textContent')) === 'Audit log';
    }
    t.ok(found, 'the navigation is reachable by Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${h.url}/audit`);
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    t.ok(await notReloaded(page), 'without reloading the page');
  });

  await t.test('actions are confirmed first, and done', async (t) => {
    await page.goto(`${h.url}/environments/${env.preview}`);
    await page.getByRole('button', { name: 'Redeploy' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    t.match(await dialog.innerText(), /rolled out again/);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    const before = await h.db.pool.oneFirst(sql.unsafe`SELECT generation FROM environments WHERE id = ${env.preview}`);
    await page.getByRole('button', { name: 'Redeploy' }).click();
    await page.getByLabel('Reason (written to the audit log)').fill('flaky start');
    await page.getByRole('dialog').getByRole('button', { name: 'Redeploy' }).click();
    await page.getByText('Redeploy requested.').waitFor();
    t.equal(Number(await h.db.pool.oneFirst(sql.unsafe`SELECT generation FROM environments WHERE id = ${env.preview}`)), Number(before) + 1, 'a new generation');
    t.equal(await h.db.pool.oneFirst(sql.unsafe`SELECT reason FROM audit_log WHERE action = 'redeploy' ORDER BY id DESC LIMIT 1`), 'flaky start');
  });

  await t.test('live: changes appear without a reload; a lost stream shows "reconnecting", then catches up', async (t) => {
    await page.goto(`${h.url}/`);
    await page.locator('[data-live="live"]').waitFor();
    await markPage(page);
    await h.db.pool.query(sql.unsafe`UPDATE environments SET suspended = true WHERE id = ${env.production}`);
    await page.locator('[data-env="shop/production"] [data-state="Suspended"]').waitFor({ timeout: 10_000 });
    t.pass('a suspension shows up live');
    // Lose the stream: the server drops it and refuses new ones for a while.
    await page.route('**/api/v1/events', (route) => route.abort());
    h.cp.server.server.closeAllConnections();
    await page.locator('[data-live="reconnecting"]').waitFor({ timeout: 10_000 });
    t.match(await page.locator('[data-live="reconnecting"]').innerText(), /Reconnecting in \d+ s/);
    await screenshot(page, 'overview-reconnecting');
    await h.db.pool.query(sql.unsafe`UPDATE environments SET suspended = false WHERE id = ${env.production}`);
    await page.unroute('**/api/v1/events');
    await page.locator('[data-live="live"]').waitFor({ timeout: 40_000 });
    await page.locator('[data-env="shop/production"] [data-state="Ready"]').waitFor({ timeout: 10_000 });
    t.pass('what changed while away is read again once back');
    t.ok(await notReloaded(page), 'all without a reload');
  });

  await t.test('dark mode and a phone', async (t) => {
    const dark = await browser.newContext({ colorScheme: 'dark', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    t.teardown(() => dark.close());
    await dark.addCookies(await context.cookies());
    const phone = await dark.newPage();
    for (const [path, name] of [
      ['/', 'overview-dark-phone'],
      [`/environments/${env.production}`, 'environment-dark-phone'],
    ] as const) {
      await phone.goto(`${h.url}${path}`);
      await phone.waitForSelector('main h1');
      await phone.waitForSelector('.env-card, .facts');
      t.equal(await phone.evaluate('getComputedStyle(document.body).backgroundColor'), 'rgb(13, 17, 23)', `${name}: dark`);
      t.ok(await phone.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1'), `${name}: nothing wider than the phone`);
      const v = await seriousViolations(phone);
      t.same(v.map((x) => x.id), [], `${name}: axe${v.length ? `\n${describeViolations(v)}` : ''}`);
      await screenshot(phone, name);
    }
  });

  await t.test('errors say what happened and what to do', async (t) => {
    await page.goto(`${h.url}/environments/${h.seeded.globex.environment}`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    t.match(await alert.innerText(), /Not found[\s\S]*Go back to the overview/, "another organization's environment is simply not found");
    await screenshot(page, 'error-not-found');
  });

  await t.test('a viewer sees no deploy buttons, and the API refuses if forced', async (t) => {
    const ctx = await browser.newContext();
    t.teardown(() => ctx.close());
    const vic = await h.session('vic');
    await ctx.addCookies([{ name: 'wharf_session', value: vic.cookie, url: h.url, httpOnly: true }]);
    const p = await ctx.newPage();
    await p.goto(`${h.url}/environments/${env.production}`);
    await p.getByRole('heading', { name: 'shop/production' }).waitFor();
    await p.getByText('can look but not deploy').waitFor();
    for (const name of ['Suspend', 'Resume', 'Redeploy', 'Roll back']) t.equal(await p.getByRole('button', { name }).count(), 0, `no ${name} button`);
    await screenshot(p, 'environment-viewer');
    await p.goto(`${h.url}/pull-requests`);
    await p.getByText('Shout louder').waitFor();
    t.equal(await p.getByRole('button', { name: /Approve preview/ }).count(), 0, 'no approve button');
    const forced = await p.evaluate(async (id) => {
      const session = (await (await fetch('/api/v1/session')).json()) as { csrfToken: string };
      const res = await fetch(`/api/v1/environments/${id}/suspend`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken }, body: '{}' });
      return { status: res.status, body: await res.json() };
    }, env.production);
    t.equal(forced.status, 403);
    t.match(forced.body, { code: 'permission-denied', permission: 'environments:deploy' });
    t.equal(Number(await h.db.pool.oneFirst(sql.unsafe`SELECT count(*) FROM environments WHERE suspended`)), 0, 'nothing was suspended');
  });

  await t.test('an expired session returns to sign-in, and back to the same page', async (t) => {
    await page.goto(`${h.url}/billing`);
    await page.getByRole('heading', { name: 'Billing' }).waitFor();
    await h.db.pool.query(sql.unsafe`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE kind = 'browser'`);
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.waitForURL(/\/sign-in\?next=%2Faudit&expired=1/);
    await page.getByText('Your session has ended').waitFor();
    await page.getByRole('link', { name: 'Sign in with GitHub' }).click();
    await page.waitForURL(`${h.url}/audit`);
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    t.pass('signed in again, on the audit log');
  });

  t.same(errors, [], 'no script errors on any page');
});

t.test('billing with Stripe: an owner upgrades through Checkout; a viewer sees why the buttons are off', async (t) => {
  const fake = await startFakeStripe({});
  t.teardown(() => fake.close());
  const h = await startDashboardHarness(t, { STRIPE_SECRET_KEY: fake.secretKey, STRIPE_API_URL: fake.url });
  await syncCatalog(createStripeClient({ secretKey: fake.secretKey, apiUrl: fake.url }));
  const browser = await launchChromium(t);
  const signedIn = async (login: string) => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    t.teardown(() => ctx.close());
    const { cookie } = await h.session(login);
    await ctx.addCookies([{ name: 'wharf_session', value: cookie, url: h.url, httpOnly: true }]);
    return ctx;
  };

  const owner = await signedIn('alice');
  // Stripe's hosted pages are not reachable here: the browser's arrival there is what the test looks for.
  const arrived: string[] = [];
  await owner.route('https://checkout.stripe.com/**', (route) => {
    arrived.push(route.request().url());
    return route.fulfill({ status: 200, contentType: 'text/html', body: '<title>Stripe Checkout</title><h1>Checkout</h1>' });
  });
  const page = await owner.newPage();
  await page.goto(`${h.url}/billing`);
  const upgrade = page.getByRole('button', { name: 'Upgrade to Business' });
  await upgrade.waitFor();
  t.notOk(await upgrade.isDisabled(), 'an owner may upgrade');
  await upgrade.click();
  await page.waitForURL(/^https:\/\/checkout\.stripe\.com\//);
  const created = fake.requests.filter((r) => r.endpoint === 'checkout.sessions.create');
  t.equal(created.length, 1, 'one Checkout session');
  t.match(JSON.stringify(created[0]), /business/, 'for the Business plan');
  t.equal(arrived.length, 1, "the browser went to the session's URL");
  t.same(fake.problems, [], 'every request as Stripe documents it');

  const viewer = await (await signedIn('vic')).newPage();
  await viewer.goto(`${h.url}/billing`);
  await viewer.getByText('Owners and admins change the plan and the card').waitFor();
  t.ok(await viewer.getByRole('button', { name: 'Upgrade to Business' }).isDisabled(), "a viewer's Upgrade is off");
  await screenshot(viewer, 'billing-viewer');
});
