/**
 * The dashboard unit over real HTTP and a real Postgres: the page on every path with its security headers, the
 * compressed bundle within its budget, and the dashboard's own endpoints with the API's sign-in, roles, CSRF and
 * organization boundaries.
 */
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { pullRequests, sql } from '@wharf/store';
import t from 'tap';
import { billingPeriod } from '../src/dashboard/routes/billing-period.js';
import { PAGE_PATHS, pagePath } from '../src/dashboard/page-paths.js';
import { startDashboardHarness } from './helpers/dashboard-harness.js';

t.test('the dashboard unit', async (t) => {
  const h = await startDashboardHarness(t);
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${h.url}${path}`, { headers, redirect: 'manual' });
  const alice = await h.session('alice');
  const vic = await h.session('vic');
  const dan = await h.session('dan');
  const eve = await h.session('eve');
  const as = (s: { cookie: string; csrf: string }, csrf = true) => ({ cookie: `wharf_session=${s.cookie}`, ...(csrf ? { 'x-csrf-token': s.csrf } : {}) });
  const call = async (method: string, path: string, headers: Record<string, string>, body: unknown = {}) => {
    const res = await fetch(`${h.url}${path}`, { method, headers: { ...headers, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) }, ...(method === 'POST' ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as any };
  };

  await t.test('every page path answers the page shell, with a strict content security policy', async (t) => {
    for (const path of Object.keys(PAGE_PATHS).map((n) => pagePath(n as keyof typeof PAGE_PATHS, { id: 1, tab: 'keys' }))) {
      const res = await get(path);
      t.equal(res.status, 200, `${path} is a page`);
      t.match(res.headers.get('content-type'), /text\/html/);
      t.match(res.headers.get('content-security-policy'), /script-src 'self';/);
      t.match(res.headers.get('content-security-policy'), /frame-ancestors 'none'/);
      t.equal(res.headers.get('x-content-type-options'), 'nosniff');
      t.match(await res.text(), /<script type="module" src="\/assets\/app-[A-Z0-9]+\.js"><\/script>/);
    }
    t.equal((await get('/no/such/page')).status, 404, 'other paths are not pages');
    t.equal((await get('/healthz')).status, 200, "the server's own routes still answer");
  });

  await t.test('the bundle: hashed, cached for good, compressed, and well under 200 KB of JavaScript gzipped', async (t) => {
    const html = await (await get('/')).text();
    const js = /src="(\/assets\/app-[A-Z0-9]+\.js)"/.exec(html)?.[1] ?? '';
    const css = /href="(\/assets\/app-[A-Z0-9]+\.css)"/.exec(html)?.[1] ?? '';
    // fetch() decompresses by itself: read the bytes on the wire.
    const gz = await new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) =>
      http.get(`${h.url}${js}`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject),
    );
    t.equal(gz.headers['content-encoding'], 'gzip');
    t.match(gz.headers['cache-control'], /immutable/);
    const bytes = gz.body;
    t.ok(bytes.length < 200 * 1024, `first page JavaScript: ${(bytes.length / 1024).toFixed(1)} KB gzipped`);
    const plain = await (await get(js, { 'accept-encoding': 'identity' })).text();
    t.equal(gunzipSync(bytes).toString('utf8'), plain, 'the gzip is the same script');
    t.equal((await get(js, { 'accept-encoding': 'br, gzip' })).headers.get('content-encoding'), 'br');
    t.match((await get(css)).headers.get('content-type'), /text\/css/);
    t.equal((await get('/assets/app-NOPE.js')).status, 404);
    t.equal((await get('/assets/..%2F..%2Fpackage.json')).status, 404, 'no path out of the build');
  });

  await t.test('the endpoints take the browser session only, and say so in problem+json', async (t) => {
    const none = await call('GET', '/dashboard/api/deployers', {});
    t.equal(none.status, 401);
    t.equal(none.body.code, 'unauthenticated');
    t.match(none.type, /application\/problem\+json/);
    const key = await call('GET', '/dashboard/api/deployers', { authorization: 'Bearer wharf_something' });
    t.equal(key.status, 401);
    t.equal(key.body.code, 'invalid-credentials');
    const expired = await h.session('alice');
    await h.db.pool.query(sql.unsafe`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE csrf_secret = ${expired.csrf}`);
    const late = await call('GET', '/dashboard/api/deployers', as(expired));
    t.equal(late.status, 401, 'an expired session is refused');
    t.equal(late.body.code, 'invalid-credentials');
  });

  await t.test('who deployed each environment last, for this organization only', async (t) => {
    const res = await call('GET', '/dashboard/api/deployers', as(alice));
    t.equal(res.status, 200);
    const byEnv = new Map(res.body.items.map((d: { environmentId: number; actor: string }) => [d.environmentId, d.actor]));
    t.equal(byEnv.get(h.seeded.env.production), 'github:octocat');
    t.equal(byEnv.get(h.seeded.env.admin), 'git:Ada <ada@example.com>');
    t.notOk(byEnv.has(h.seeded.globex.environment));
  });

  await t.test('pull requests with checks, previews and fork approval; another organization sees none of them', async (t) => {
    const res = await call('GET', '/dashboard/api/pull-requests', as(alice));
    t.equal(res.status, 200);
    t.equal(res.body.items.length, 1);
    const pr = res.body.items[0];
    t.match(pr, { number: 7, title: 'Shout louder', fork: true, approval: 'needed', repository: 'acme/shop' });
    t.same(pr.checks.map((c: { name: string; conclusion: string }) => `${c.name}=${c.conclusion}`), ['wharf/plan=success', 'wharf/preview=action_required', 'wharf/validate=success']);
    t.same(pr.previews.map((p: { id: number }) => p.id), [h.seeded.env.preview]);
    const theirs = await call('GET', '/dashboard/api/pull-requests', as(eve));
    t.same(theirs.body.items.map((p: { number: number }) => p.number), [9], 'globex sees its own only');
  });

  await t.test('approving a fork preview: an owner or admin only, of the head they saw, with the CSRF token, once, written to the audit log', async (t) => {
    const url = `/dashboard/api/pull-requests/${h.seeded.repositoryId}/7/approve`;
    const head = { sha: h.seeded.shas.second };
    const viewer = await call('POST', url, as(vic), head);
    t.equal(viewer.status, 403);
    t.equal(viewer.body.code, 'permission-denied');
    t.equal(viewer.body.permission, 'environments:deploy');
    const deployer = await call('POST', url, as(dan), head);
    t.equal(deployer.status, 403, 'a deployer may deploy, but not approve what a fork runs (on GitHub that needs write access)');
    t.match(deployer.body.detail, /owner or admin/);
    const noCsrf = await call('POST', url, as(alice, false), head);
    t.equal(noCsrf.status, 403);
    t.equal(noCsrf.body.code, 'csrf-failed');
    const other = await call('POST', url, as(eve), head);
    t.equal(other.status, 404, "another organization's pull request is not found");
    const globexPr = await call('POST', `/dashboard/api/pull-requests/${h.seeded.globex.repositoryId}/9/approve`, as(alice), head);
    t.equal(globexPr.status, 404, 'nor is theirs for us, though it exists');
    t.equal((await call('POST', '/dashboard/api/pull-requests/abc/7/approve', as(alice), head)).status, 404);
    const noSha = await call('POST', url, as(alice), {});
    t.equal(noSha.status, 400, 'the head that was reviewed is named');
    t.match(noSha.body.errors, [{ field: '/sha' }]);
    const stale = await call('POST', url, as(alice), { sha: h.seeded.shas.first });
    t.equal(stale.status, 409, 'a head other than the current one is not approved');
    t.equal(stale.body.code, 'pull-request-moved');
    t.match(stale.type, /application\/problem\+json/);
    t.equal(stale.body.detail, `the pull request moved to ${h.seeded.shas.second.slice(0, 7)}; review it again`);
    const scope = { tenantId: h.seeded.tenantId, repositoryId: h.seeded.repositoryId };
    t.equal((await pullRequests.getPullRequest(h.db.pool, scope, 7))?.approved_sha, null, 'nothing approved');
    t.equal(await pullRequests.approvePreviewOfHead(h.db.pool, scope, 7, h.seeded.shas.first, 'alice'), false, 'the write itself approves only the current head (a push between read and write)');
    const ok = await call('POST', url, as(alice), head);
    t.equal(ok.status, 200);
    t.match(ok.body, { approved: true, changed: true, sha: h.seeded.shas.second, by: 'alice' });
    const stored = await pullRequests.getPullRequest(h.db.pool, scope, 7);
    t.equal(stored?.approved_sha, h.seeded.shas.second);
    t.equal(stored?.approved_by, 'alice');
    t.match((await call('POST', url, as(alice), head)).body, { changed: false }, 'approving again changes nothing');
    const audit = await h.db.pool.any(sql.unsafe`SELECT actor, action, subject FROM audit_log WHERE action = 'approve-preview'`);
    t.same(audit, [{ actor: 'user:alice', action: 'approve-preview', subject: 'pull-request:acme/shop#7' }]);
    const list = await call('GET', '/dashboard/api/pull-requests', as(alice));
    t.match(list.body.items[0], { approval: 'approved', approvedBy: 'alice' });
  });

  await t.test("the period's usage: environments, seats and rollouts of this organization", async (t) => {
    const res = await call('GET', '/dashboard/api/usage', as(vic));
    t.equal(res.status, 200);
    t.equal(res.body.plan, 'pro');
    t.same(res.body.counts, { productionEnvironments: 2, previewEnvironments: 2, seats: 3 });
    const start = billingPeriod(new Date()).start.getTime();
    const hoursAgo = [9, 7, 6, 3, 1];
    t.equal(res.body.usage.deploys, hoursAgo.filter((hr) => Date.now() - hr * 3_600_000 >= start).length, 'rollouts since the period began');
    t.ok(res.body.usage.productionEnvironmentHours > 0);
    t.equal(res.body.days.reduce((n: number, d: { rollouts: number }) => n + d.rollouts, 0), res.body.usage.deploys, 'the days add up');
  });

  await t.test("an environment's request rates: this organization's only; a URL elsewhere is not read", async (t) => {
    const mine = await call('GET', `/dashboard/api/environments/${h.seeded.env.admin}/metrics`, as(vic));
    t.equal(mine.status, 200);
    t.match(mine.body, { environmentId: h.seeded.env.admin, points: [], unavailable: 'the environment has no URL yet' });
    t.equal((await call('GET', `/dashboard/api/environments/${h.seeded.globex.environment}/metrics`, as(alice))).status, 404);
    await h.db.pool.query(sql.unsafe`UPDATE environments SET url = 'http://169.254.169.254/' WHERE id = ${h.seeded.env.admin}`);
    const hostile = await call('GET', `/dashboard/api/environments/${h.seeded.env.admin}/metrics`, as(vic));
    await new Promise((r) => setTimeout(r, 50));
    const again = await call('GET', `/dashboard/api/environments/${h.seeded.env.admin}/metrics`, as(vic));
    t.equal(hostile.status, 200);
    t.match(again.body.unavailable, /this machine/, 'the control plane does not connect to another host');
  });
});

t.test('the local owner (wharf up): no sign-in from this machine, refused from another origin', async (t) => {
  const h = await startDashboardHarness(t, { WHARF_API_LOCAL_OWNER: 'true' });
  const res = await fetch(`${h.url}/dashboard/api/usage`);
  t.equal(res.status, 200);
  t.match(await res.json(), { counts: { productionEnvironments: 0 } }, "the local owner's organization");
  const cross = await fetch(`${h.url}/dashboard/api/pull-requests/1/7/approve`, { method: 'POST', headers: { origin: 'http://evil.example', 'content-type': 'application/json' }, body: '{}' });
  t.equal(cross.status, 401, 'a page of another origin does not act as the local owner');
});
