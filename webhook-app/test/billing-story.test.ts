/**
 * Issue 16's story, end to end with real Postgres, real Git, the fake GitHub and the fake Stripe: a Free organization
 * hits its preview limit (a neutral wharf/preview check that explains it and how to upgrade), upgrades through a
 * Checkout session the fake completes, the limit lifts, a failed payment starts the grace period (a banner, nothing
 * stops), the payment recovers, and nothing was ever stopped. Then the other branch: the grace period runs out,
 * previews pause (data kept), production keeps running, and paying resumes them.
 * (Usage reported exactly once across a crash is the metering work's test.)
 */
import { BILLING_PLANS } from '@wharf/contracts';
import { billing, desiredState, tenants } from '@wharf/store';
import { getEnvironmentState } from '@wharf/store/testing';
import { checkRunPayload, pullRequestPayload, pushPayload } from '@wharf/testkit';
import type Stripe from 'stripe';
import t, { type Test as TapTest } from 'tap';
import { createStripeClient, syncCatalog } from '../src/index.js';
import { startBillingHarness, type BillingHarness } from './helpers/billing-harness.js';
import { INSTALLATION_ID, manifest, REPO, startHarness, workflow, type Harness } from './helpers/harness.js';

const ZERO = '0000000000000000000000000000000000000000';

async function freeOrganizationWithProduction(t: TapTest, env: Record<string, string> = {}) {
  const gh = await startHarness(t);
  const base = await gh.commit('main', 'initial', { 'wharf.yaml': manifest(), 'apps/shop/main.yaml': workflow(8080) });
  await gh.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: ZERO, after: base }));
  await gh.settle();
  const tenant = await tenants.findTenant(gh.db.pool, 'github', String(INSTALLATION_ID));
  if (!tenant) throw new Error('no tenant for the installation');
  t.equal(tenant.plan, 'free', 'a new organization is on Free');
  const scope = await gh.repository();
  const h = await startBillingHarness(t, { existing: { db: gh.db, tenantId: tenant.id, repositoryId: scope.repositoryId }, env });
  await syncCatalog(createStripeClient({ secretKey: h.fake.secretKey, apiUrl: h.fake.url }));
  return { gh, h, scope };
}

async function openPullRequest(gh: Harness, n: number): Promise<string> {
  await gh.commit('main', `noop ${n}`, {});
  const sha = await gh.commit(`feature-${n}`, `change ${n}`, { 'apps/shop/main.yaml': workflow(8100 + n) });
  await gh.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: n, headSha: sha, headRef: `feature-${n}` }));
  await gh.settle();
  return sha;
}

/** Every environment of the repository, and whether it is Ready and running on the target. */
async function fleet(gh: Harness) {
  const all = await desiredState.listRepositoryEnvironments(gh.db.pool, await gh.repository());
  return Promise.all(
    all.map(async (e) => {
      const state = await getEnvironmentState(gh.db.pool, e.id);
      const cond = (type: string) => state?.conditions.find((c) => c.type === type);
      return { name: e.name, ready: cond('Ready')?.status === 'True', stalled: cond('Stalled')?.status === 'True' ? cond('Stalled')?.reason : null, running: gh.target.running.has(e.id) };
    }),
  );
}

const usageOf = (view: { usage: { limit: string; used: number; allowed: number | null }[] }, limit: string) => view.usage.find((u) => u.limit === limit);

async function upgrade(h: BillingHarness, gh: Harness, options: { card?: 'succeeds' | 'generic_decline' } = {}) {
  const checkout = await h.call('POST', '/api/v1/billing/checkout', { token: h.tokens.owner, body: { plan: 'pro', seats: 1 } });
  if (checkout.status !== 201) throw new Error(`checkout refused: ${JSON.stringify(checkout.body)}`);
  h.fake.controls.completeCheckoutSession(checkout.body.id, { card: options.card ?? 'succeeds' });
  await h.settle();
  await gh.settle();
}

t.test('free → preview limit (neutral) → Checkout → limit lifts → payment fails (grace) → recovers; nothing stopped', async (t) => {
  const { gh, h } = await freeOrganizationWithProduction(t);
  const limit = BILLING_PLANS.free.limits.previewEnvironments;
  for (let n = 1; n <= limit; n++) {
    const sha = await openPullRequest(gh, n);
    t.equal(gh.fake.state.latestCheckRun(REPO.fullName, sha, 'wharf/preview')?.conclusion, 'success', `preview ${n} of ${limit} deploys`);
  }
  const over = await openPullRequest(gh, limit + 1);
  const check = gh.fake.state.latestCheckRun(REPO.fullName, over, 'wharf/preview');
  t.equal(check?.conclusion, 'neutral', 'the preview over the limit gets a neutral check, not a failure');
  t.match(check?.output.title, new RegExp(`Preview limit reached \\(${limit}\\)`));
  t.match(check?.output.summary, /The Free plan runs 3 preview environments at once/);
  t.match(check?.output.summary, /upgrade the plan/);
  t.match(check?.output.summary, /Production is never held/);
  t.equal(gh.fake.state.deploymentsFor(REPO.fullName, `preview/pr-${limit + 1}`).length, 0, 'nothing deployed for it');
  const free = (await h.call('GET', '/api/v1/billing', { token: h.tokens.owner })).body;
  t.same(usageOf(free, 'previewEnvironments'), { limit: 'previewEnvironments', used: limit, allowed: limit });
  t.same(usageOf(free, 'productionEnvironments'), { limit: 'productionEnvironments', used: 1, allowed: BILLING_PLANS.free.limits.productionEnvironments });

  await upgrade(h, gh);
  const pro = (await h.call('GET', '/api/v1/billing', { token: h.tokens.owner })).body;
  t.equal(pro.plan, 'pro');
  t.equal(pro.status, 'trialing');
  const runId = check?.id ?? 0;
  await gh.deliver('check_run', checkRunPayload(REPO, { action: 'rerequested', name: 'wharf/preview', headSha: over, checkRunId: runId }));
  await gh.settle();
  t.equal(gh.fake.state.latestCheckRun(REPO.fullName, over, 'wharf/preview')?.conclusion, 'success', 'on Pro the same pull request gets its preview: the limit lifted');

  // The trial ends and the card is declined: past_due, the grace period starts, everything keeps running.
  const account = await billing.getBillingAccount(h.db.pool, { tenantId: h.tenantId });
  h.fake.controls.setCard(account?.stripe_customer_id as string, 'generic_decline');
  h.fake.controls.advanceTime(8 * 86_400);
  await h.settle();
  await gh.settle();
  const due = (await h.call('GET', '/api/v1/billing', { token: h.tokens.owner })).body;
  t.equal(due.status, 'past_due', 'a failed payment makes the organization past due');
  t.equal(due.plan, 'pro', 'it keeps its plan during the grace period');
  t.ok(due.pastDueSince && due.graceEndsAt, 'with the start and end of the grace period');
  t.equal(new Date(due.graceEndsAt).getTime() - new Date(due.pastDueSince).getTime(), 7 * 86_400_000, 'seven days by default');
  t.match(due.banner, /Payment failed/);
  t.same(await billing.pausePreviewsPastGrace(h.db.pool, 7), [], 'the dunning sweep pauses nothing inside the grace period');
  await gh.settle();
  const during = await fleet(gh);
  t.ok(during.every((e) => e.ready && e.running && e.stalled === null), 'everything keeps running during the grace period');

  // The customer fixes the card; Stripe collects the open invoice.
  h.fake.controls.setCard(account?.stripe_customer_id as string, 'succeeds');
  const stripe = createStripeClient({ secretKey: h.fake.secretKey, apiUrl: h.fake.url });
  const open = (await stripe.invoices.list({ customer: account?.stripe_customer_id as string, status: 'open' })).data[0] as Stripe.Invoice;
  t.ok(open, 'an open invoice');
  t.same(h.fake.controls.attemptInvoicePayment(open.id), { paid: true });
  await h.settle();
  await gh.settle();
  const paid = (await h.call('GET', '/api/v1/billing', { token: h.tokens.owner })).body;
  t.equal(paid.status, 'active', 'paid: active again');
  t.equal(paid.pastDueSince, null);
  t.equal(paid.banner, null);
  const after = await fleet(gh);
  t.equal(after.length, limit + 2, 'production and four previews');
  t.ok(after.every((e) => e.ready && e.running && e.stalled === null), 'nothing was stopped at any point');
  t.equal(usageOf(paid, 'previewEnvironments')?.used, limit + 1);
  t.same(gh.fake.problems, []);
  t.same(h.fake.problems, []);
});

t.test('past due beyond the grace period: previews pause (data kept), production runs; paying resumes them', async (t) => {
  const { gh, h } = await freeOrganizationWithProduction(t);
  await upgrade(h, gh);
  await openPullRequest(gh, 1);
  await openPullRequest(gh, 2);
  const account = await billing.getBillingAccount(h.db.pool, { tenantId: h.tenantId });
  const customer = account?.stripe_customer_id as string;
  h.fake.controls.setCard(customer, 'insufficient_funds');
  h.fake.controls.advanceTime(8 * 86_400);
  await h.settle();
  t.equal((await billing.getBillingAccount(h.db.pool, { tenantId: h.tenantId }))?.status, 'past_due');
  // The grace period has run out (a grace of 0 days stands for the days passing).
  t.same(await billing.pausePreviewsPastGrace(h.db.pool, 0), [h.tenantId], 'the dunning sweep pauses this organization');
  t.same(await billing.pausePreviewsPastGrace(h.db.pool, 0), [], 'once');
  await gh.settle();
  const paused = await fleet(gh);
  t.same(
    paused.map((e) => [e.name, e.stalled]).sort(),
    [['pr-1', 'BillingPastDue'], ['pr-2', 'BillingPastDue'], ['production', null]],
    'previews Stalled (BillingPastDue); production is not',
  );
  t.ok(paused.find((e) => e.name === 'production')?.ready, 'production keeps running');
  const view = (await h.call('GET', '/api/v1/billing', { token: h.tokens.owner })).body;
  t.match(view.banner, /previews are paused/);
  const sha = await openPullRequest(gh, 3);
  const check = gh.fake.state.latestCheckRun(REPO.fullName, sha, 'wharf/preview');
  t.equal(check?.conclusion, 'neutral', 'a new pull request gets a neutral check while paused');
  t.match(check?.output.title, /Previews paused: payment past due/);

  h.fake.controls.setCard(customer, 'succeeds');
  const stripe = createStripeClient({ secretKey: h.fake.secretKey, apiUrl: h.fake.url });
  const open = (await stripe.invoices.list({ customer, status: 'open' })).data[0] as Stripe.Invoice;
  h.fake.controls.attemptInvoicePayment(open.id);
  await h.settle();
  await gh.settle();
  const resumed = await fleet(gh);
  t.ok(
    resumed.filter((e) => e.name !== 'pr-3').every((e) => e.ready && e.stalled === null),
    'paid: the paused previews run again, with the data they had',
  );
  t.same(h.fake.problems, []);
});
