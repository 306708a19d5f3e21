/**
 * dashboard-load: the dashboard in headless Chromium (Debian's, through playwright-core).
 * 1. The overview with 1,000 environments (`--envs N`): first contentful paint and time until every environment is
 *    shown and the page answers input (`overview_tti_ms`), median of `--runs` cold loads (a new browser context each).
 * 2. JavaScript the first page ships, gzipped (`js_gzip_kb`).
 * 3. `wharf up` with the local target on a real repository: `--commits` commits on main while the production page is
 *    open; from each `git commit` returning to the page showing the new commit (`commit_to_browser_p95_ms`), and to
 *    it showing the commit running and Ready (`commit_to_ready_p95_ms`).
 *   npm run bench -- dashboard-load [--envs 1000] [--runs 5] [--commits 10]
 */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadSettings } from '@wharf/contracts';
import { organizations, repositories } from '@wharf/store';
import { seedEnvironments } from '@wharf/store/testing';
import { benchDatabase, median, percentile, REPO_ROOT, silentLog, startWharf } from '@wharf/testkit';
import { controlPlaneSettings, startControlPlaneServer } from '@wharf/webhook-app';
import { chromium } from 'playwright-core';
import { Registry } from 'prom-client';
import { argValue } from './support/replicas.js';

const ENVS = argValue('envs', 1_000);
const RUNS = argValue('runs', 5);
const COMMITS = argValue('commits', 10);
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
const run = promisify(execFile);
/** The little of the DOM the page functions read (this file is type-checked without DOM types). */
type Doc = { querySelector(selector: string): { textContent: string | null } | null };
const work = await mkdtemp(path.join(tmpdir(), 'wharf-bench-dashboard-'));
await chmod(work, 0o755);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS });
const db = await benchDatabase(process.env.DATABASE_URL);
let jsGzipKb = 0;

const gzipBytes = (url: string) =>
  new Promise<number>((resolve, reject) =>
    http.get(url, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => resolve(n));
    }).on('error', reject),
  );

try {
  // 1 and 2: the overview with ENVS environments of the local owner.
  const owner = await organizations.ensureLocalOwner(db.pool);
  const repo = await repositories.upsertRepository(db.pool, { tenantId: owner.tenantId, provider: 'local', fullName: 'local/bench', url: 'file:///bench', defaultBranch: 'main' });
  const apps = Math.max(1, Math.round(ENVS / 10));
  await seedEnvironments(
    db.pool,
    Array.from({ length: ENVS }, (_, i) => ({
      tenantId: owner.tenantId,
      repositoryId: repo.id,
      app: `app-${String(i % apps).padStart(3, '0')}`,
      name: i < apps ? 'production' : `preview-${i}`,
      kind: i < apps ? ('production' as const) : ('preview' as const),
      digest: `sha256:${i}`,
      spec: null,
      converged: { dueInMs: 3_600_000 },
    })),
  );
  const settings = loadSettings(controlPlaneSettings, { DATABASE_URL: db.url, WHARF_PORT: '0', WHARF_DATA_DIR: path.join(work, 'cp'), WHARF_LOG_LEVEL: 'silent', WHARF_API_LOCAL_OWNER: 'true' });
  const server = await startControlPlaneServer({ settings, log: silentLog, pool: db.pool, registry: new Registry(), dataDir: path.join(work, 'cp'), databaseUrl: db.url });
  const fcp: number[] = [];
  const tti: number[] = [];
  try {
    for (let i = 0; i < RUNS + 1; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() => performance.getEntriesByName('wharf:overview-ready').length > 0, undefined, { timeout: 60_000, polling: 20 });
      const shown = (await page.evaluate(`document.querySelectorAll('.env-card').length`)) as number;
      if (shown !== ENVS) throw new Error(`the overview shows ${shown} environments, not ${ENVS}`);
      // Interactive: the main thread has run a task after the last render (a click would be handled now).
      const idle = (await page.evaluate(`new Promise((r) => requestAnimationFrame(() => setTimeout(() => r(performance.now()), 0)))`)) as number;
      const paint = (await page.evaluate(`performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1`)) as number;
      if (i > 0) {
        // The first load warms the server (the bundle read from disk, the database's caches).
        fcp.push(paint);
        tti.push(idle);
      }
      await context.close();
    }
    const html = await (await fetch(`${server.url}/`)).text();
    const js = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1] ?? '';
    jsGzipKb = Math.round(((await gzipBytes(`${server.url}${js}`)) / 1024) * 10) / 10;
  } finally {
    await server.stop();
  }

  console.log(`overview with ${ENVS} environments, ${RUNS} cold loads: FCP median ${Math.round(median(fcp))} ms, TTI median ${Math.round(median(tti))} ms; first page JS ${jsGzipKb} KB gzipped`);
  // 3: commit → browser, on wharf up with the local target.
  const repoDir = path.join(work, 'hello-api');
  await cp(path.join(REPO_ROOT, 'examples/hello-api'), repoDir, { recursive: true });
  const git = async (...args: string[]) => (await run('git', ['-c', 'user.name=Ada', '-c', 'user.email=ada@example.test', ...args], { cwd: repoDir })).stdout.trim();
  await git('init', '-q', '-b', 'main');
  await git('add', '-A');
  await git('commit', '-qm', 'First version');
  const local = await benchDatabase(process.env.DATABASE_URL);
  const wharf = startWharf(['up', '--repo', repoDir], { cwd: work, env: { DATABASE_URL: local.url, WHARF_PORT: '0', WHARF_ROUTER_PORT: '0', WHARF_DATA_DIR: path.join(work, '.wharf') } });
  const toBrowser: number[] = [];
  const toReady: number[] = [];
  try {
    const [, url] = await wharf.waitFor(/dashboard (http:\/\/\S+?)\/\s/, 120_000);
    const page = await browser.newPage();
    await page.goto(`${url}/`);
    await page.locator('[data-env="hello-api/production"] [data-state="Ready"]').waitFor({ timeout: 120_000 });
    await page.locator('[data-env="hello-api/production"] a.env-name').click();
    await page.locator('.page-head [data-state="Ready"]').waitFor();
    const file = path.join(repoDir, 'workflow.yaml');
    for (let i = 1; i <= COMMITS; i++) {
      await writeFile(file, (await readFile(file, 'utf8')).replace(/Hello from Wharf[^"']*/, `Hello from Wharf ${i}`));
      await git('commit', '-qam', `Greeting ${i}`);
      const t0 = performance.now();
      const short = (await git('rev-parse', 'HEAD')).slice(0, 7);
      await page.waitForFunction((s) => (((globalThis as unknown as { document: Doc }).document.querySelector('.facts')?.textContent ?? '').includes(s)), short, { timeout: 60_000, polling: 10 });
      toBrowser.push(performance.now() - t0);
      await page.waitForFunction(
        (s) => {
          const doc = (globalThis as unknown as { document: Doc }).document;
          const facts = doc.querySelector('.facts dd')?.textContent ?? '';
          return facts.startsWith(s) && !facts.includes('→') && doc.querySelector('.page-head [data-state="Ready"]') !== null;
        },
        short,
        { timeout: 60_000, polling: 10 },
      );
      toReady.push(performance.now() - t0);
    }
  } finally {
    wharf.child.kill('SIGTERM');
    await wharf.exited;
    await local.close();
  }
  const round = (n: number) => Math.round(n);
  console.log(`commit → browser (ms): ${toBrowser.map(round).join(', ')}; → running and Ready: ${toReady.map(round).join(', ')}`);
  console.log(
    JSON.stringify({
      bench: 'dashboard-load',
      environments: ENVS,
      overview_fcp_ms: round(median(fcp)),
      overview_tti_ms: round(median(tti)),
      js_gzip_kb: jsGzipKb,
      commits: COMMITS,
      commit_to_browser_p50_ms: round(median(toBrowser)),
      commit_to_browser_p95_ms: round(percentile(toBrowser, 95)),
      commit_to_ready_p95_ms: round(percentile(toReady, 95)),
    }),
  );
} finally {
  await browser.close();
  await db.close();
  await rm(work, { recursive: true, force: true });
}
