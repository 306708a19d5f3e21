/**
 * The dashboard's parts without a browser: its paths, the build on first start, the runtime metrics it reads (and the
 * hosts it refuses to read them from), and the billing period.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { silentLog, tempDir } from '@wharf/testkit';
import t from 'tap';
import { ensureDashboardBuild } from '../src/dashboard/build-dashboard.js';
import { createMetricsSampler } from '../src/dashboard/metrics/metrics-sampler.js';
import { parseRequestCounters } from '../src/dashboard/metrics/parse-request-counters.js';
import { scrapeRuntime, scrapeTarget } from '../src/dashboard/metrics/scrape-runtime.js';
import { matchPage, PAGE_PATHS, pagePath } from '../src/dashboard/page-paths.js';
import { billingPeriod } from '../src/dashboard/routes/billing-period.js';

t.test('every page has a path that leads back to it', async (t) => {
  t.same(matchPage(pagePath('environment', { id: 12 })), { name: 'environment', params: { id: '12' } });
  t.same(matchPage('/settings/keys'), { name: 'settingsTab', params: { tab: 'keys' } });
  t.same(matchPage('/'), { name: 'overview', params: {} });
  t.equal(matchPage('/environments/12/extra'), null, 'an unknown path is no page');
  t.equal(matchPage('/api/v1/environments'), null);
  for (const name of Object.keys(PAGE_PATHS) as (keyof typeof PAGE_PATHS)[]) {
    t.equal(matchPage(pagePath(name, { id: 3, tab: 'roles' }))?.name, name, `${name} round-trips`);
  }
});

t.test('the request counter of a runtime, summed; 5xx counted as errors', async (t) => {
  const text = [
    '# HELP wharf_runtime_http_requests_total HTTP requests answered',
    '# TYPE wharf_runtime_http_requests_total counter',
    'wharf_runtime_http_requests_total{route="/hello",method="GET",status="200"} 40',
    'wharf_runtime_http_requests_total{route="/hello",method="GET",status="503"} 2',
    'wharf_runtime_http_requests_total{route="/x",method="POST",status="500"} 1',
    'wharf_runtime_http_requests_total{route="/x",method="POST",status="404"} 7',
    'wharf_runtime_step_seconds_sum 3',
  ].join('\n');
  t.same(parseRequestCounters(text), { requests: 50, errors: 3 });
  t.same(parseRequestCounters('# TYPE wharf_runtime_http_requests_total counter\n'), { requests: 0, errors: 0 }, 'no requests yet');
  t.equal(parseRequestCounters('up 1\n'), null, 'a page without the counter is not a runtime');
  t.same(parseRequestCounters('wharf_runtime_http_requests_total{status="200"} -5\nwharf_runtime_http_requests_total{status="200"} NaN'), { requests: 0, errors: 0 }, 'nonsense values are skipped');
});

t.test('metrics are read from runtimes on this machine only: other hosts are refused before connecting', async (t) => {
  t.match(scrapeTarget('http://production--shop.localhost:4601/'), { host: '127.0.0.1', port: 4601, hostHeader: 'production--shop.localhost:4601', path: '/.wharf/metrics' });
  t.match(scrapeTarget('http://127.0.0.1:4601/shop/production/'), { host: '127.0.0.1', path: '/shop/production/.wharf/metrics' });
  for (const hostile of [
    'http://169.254.169.254/latest/meta-data/',
    'http://metadata.google.internal/',
    'http://example.com/',
    'http://localhost.evil.example/',
    'http://127.0.0.1.nip.io/',
    'https://production--shop.localhost/',
    'file:///etc/passwd',
    'http://user:pw@127.0.0.1:4601/',
    'not a url',
    'http://10.0.0.8:4601/',
  ]) {
    t.ok('refused' in scrapeTarget(hostile), `${hostile} is refused`);
  }
  await t.rejects(scrapeRuntime('http://169.254.169.254/'), /this machine/);
});

t.test('a runtime that answers too much or too slowly is cut off', async (t) => {
  let mode: 'big' | 'slow' | 'ok' = 'big';
  const server = createServer((_req, res) => {
    if (mode === 'slow') return; // never answers
    res.writeHead(200, { 'content-type': 'text/plain' });
    if (mode === 'big') res.end(`${'# padding\n'.repeat(40_000)}wharf_runtime_http_requests_total{status="200"} 1\n`);
    else res.end('wharf_runtime_http_requests_total{status="200"} 5\nwharf_runtime_http_requests_total{status="500"} 1\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  await t.rejects(scrapeRuntime(url), /larger than 262144 bytes/);
  mode = 'slow';
  await t.rejects(scrapeRuntime(url, { timeoutMs: 200 }), /did not answer within 200 ms/);
  mode = 'ok';
  t.same(await scrapeRuntime(url), { requests: 6, errors: 1 });
});

t.test('request and error rates: per second between samples; a restarted runtime starts from zero', async (t) => {
  let now = 1_000_000;
  const counters = [
    { requests: 100, errors: 0 },
    { requests: 150, errors: 5 },
    { requests: 10, errors: 1 },
  ];
  let i = 0;
  const sampler = createMetricsSampler({ scrape: async () => counters[Math.min(i++, counters.length - 1)]!, log: silentLog, intervalMs: 3_600_000, now: () => now });
  t.teardown(() => sampler.close());
  t.same(sampler.series(1, 'http://a.localhost/').points, [], 'the first sample only starts the series');
  await new Promise((r) => setTimeout(r, 5));
  now += 10_000;
  await sampler.tick();
  t.same(
    sampler.series(1, 'http://a.localhost/').points.map((p) => [p.requests, p.errors]),
    [[5, 0.5]],
    '50 requests and 5 errors in 10 s',
  );
  now += 5_000;
  await sampler.tick();
  t.same(sampler.series(1, 'http://a.localhost/').points.map((p) => [p.requests, p.errors])[1], [2, 0.2], 'a counter that went down is a new runtime: 10 requests in 5 s');
  t.equal(sampler.series(2, null).unavailable, 'the environment has no URL yet');
  now += 10 * 60_000;
  await sampler.tick();
  t.equal(sampler.size(), 0, 'nobody asked for 10 minutes: sampling stops');
});

t.test('the sampler keeps at most its bound of environments; a runtime that fails says why', async (t) => {
  let scrapes = 0;
  const sampler = createMetricsSampler({
    scrape: async (url) => {
      scrapes++;
      if (url.includes('e10')) throw new Error('the runtime answered 503 for its metrics');
      return { requests: 1, errors: 0 };
    },
    log: silentLog,
    intervalMs: 3_600_000,
    maxEnvironments: 3,
  });
  t.teardown(() => sampler.close());
  for (let id = 1; id <= 10; id++) sampler.series(id, `http://e${id}.localhost/`);
  await new Promise((r) => setTimeout(r, 5));
  t.equal(sampler.size(), 3, 'only three are sampled at once');
  t.equal(scrapes, 10);
  await sampler.tick();
  t.equal(scrapes, 13, 'a tick reads the three tracked ones');
  t.equal(sampler.series(10, 'http://e10.localhost/').unavailable, 'the runtime answered 503 for its metrics');
});

t.test('rates over time from a real runtime-like server', async (t) => {
  let total = 0;
  let errors = 0;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`wharf_runtime_http_requests_total{status="200"} ${total}\nwharf_runtime_http_requests_total{status="502"} ${errors}\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const sampler = createMetricsSampler({ scrape: (u) => scrapeRuntime(u), log: silentLog, intervalMs: 50 });
  t.teardown(() => sampler.close());
  sampler.series(7, url);
  const until = Date.now() + 10_000;
  while (sampler.series(7, url).points.length < 3 && Date.now() < until) {
    total += 20;
    errors += 2;
    await new Promise((r) => setTimeout(r, 30));
  }
  const points = sampler.series(7, url).points;
  t.ok(points.length >= 3, 'points accumulate while someone looks');
  t.ok(points.every((p) => p.requests > 0 && p.errors > 0 && p.errors <= p.requests + p.errors), 'rates are positive');
  const share = points.reduce((n, p) => n + p.errors, 0) / points.reduce((n, p) => n + p.errors + p.requests, 0);
  t.ok(share > 0.05 && share < 0.2, `errors are about a tenth of all answers (${share.toFixed(3)})`);
});

t.test('the billing period is the calendar month in UTC', async (t) => {
  const p = billingPeriod(new Date('2026-11-16T12:00:00Z'));
  t.equal(p.start.toISOString(), '2026-11-01T00:00:00.000Z');
  t.equal(p.end.toISOString(), '2026-12-01T00:00:00.000Z');
  t.ok(Math.abs(p.elapsed - 15.5 / 30) < 1e-9);
  t.equal(billingPeriod(new Date('2026-12-31T23:59:59Z')).end.toISOString(), '2027-01-01T00:00:00.000Z');
});

t.test('the bundle is built on first start, reused while fresh, rebuilt when a file is missing or the manifest is broken', async (t) => {
  const dir = await tempDir(t, 'wharf-dashboard-build-');
  const first = await ensureDashboardBuild({ dir });
  t.equal(first.built, true);
  t.match(first.manifest.js, /^app-[A-Z0-9]+\.js$/);
  t.match(first.manifest.css, /^app-[A-Z0-9]+\.css$/);
  t.ok(first.manifest.inputs.some((i) => i.endsWith(path.join('client', 'main.tsx'))), 'its sources are listed');
  t.ok(first.manifest.inputs.some((i) => i.endsWith(path.join('domain', 'state.ts'))), 'contracts are bundled from source');
  t.notOk(first.manifest.inputs.some((i) => /ajv|yaml/.test(i)), 'no validator reaches the browser');
  t.equal((await ensureDashboardBuild({ dir })).built, false, 'fresh: not built again');
  await rm(path.join(dir, first.manifest.js));
  t.equal((await ensureDashboardBuild({ dir })).built, true, 'a missing file rebuilds');
  await writeFile(path.join(dir, 'manifest.json'), '{"broken":');
  t.equal((await ensureDashboardBuild({ dir })).built, true, 'a broken manifest rebuilds');
});
