/**
 * dashboard-load: the dashboard in headless Chromium (Debian's, through playwright-core).
 * 1. The overview with 1,000 environments (`--envs N`): first contentful paint and time until every environment is
 *    shown and the main thread has no long task left (`overview_tti_ms`: the end of the last long task before 2 s
 *    without one), median of `--runs` cold loads (a new browser context each).
 * 2. JavaScript the first page ships, gzipped (`js_gzip_kb`).
 * 3. `wharf up` with the local target on a real repository: `--commits` commits on main while the production page is
 *    open; from each `git commit` returning to the page showing the new commit (`commit_to_browser_p95_ms`), and to
 *    it showing the commit running and Ready (`commit_to_ready_p95_ms`).
 * Both databases live on one Postgres server (DATABASE_URL, or one embedded server for the run); a failure names
 * its phase, and every clean-up step runs and reports its own failure instead of leaving an uncaught error.
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
import { benchDatabase, median, percentile, REPO_ROOT, type RunningProcess, silentLog, startWharf } from '@wharf/testkit';
import { controlPlaneSettings, startControlPlaneServer } from '@wharf/webhook-app';
import { chromium } from 'playwright-core';
import { Registry } from 'prom-client';
import { argValue } from './support/replicas.js';


/**
 * In the page, from before its first script: every long task (over 50 ms on the main thread), so that the bench can
 * tell when the main thread last stayed busy after the overview showed every environment (a second render, for
 * instance, delays a click as much as the first).
 */
const LONG_TASK_PROBE = `window.__wharfLongTasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__wharfLongTasks.push([e.startTime, e.startTime + e.duration]);
}).observe({ type: 'longtask' });`;
/** How long the main thread must stay free of long tasks after the overview is ready (Lighthouse waits 5 s). */
const QUIET_MS = 2_000;
const ENVS = argValue('envs', 1_000);
const RUNS = argValue('runs', 5);
const COMMITS = argValue('commits', 10);
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
const run = promisify(execFile);
/** The little of the DOM the page functions read (this file is type-checked without DOM types). */
type Doc = { querySelector(selector: string): { textContent: string | null } | null };
/** What the run is doing, named in any failure: `set-up`, `overview`, `wharf up`, `commit N of M`, `stop wharf up`, `clean-up`. */
let phase = 'set-up';
/** Clean-up steps, last first; each runs once, whatever failed before it. */
const cleanups: { name: string; fn: () => Promise<unknown> }[] = [];
const cleanUp = async () => {
  while (cleanups.length > 0) {
    const step = cleanups.pop();
    if (!step) break;
    await step.fn().catch((err: unknown) => console.error(`dashboard-load: clean-up step '${step.name}' failed: ${describe(err)}`));
  }
};
const describe = (err: unknown) => (err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err));
let failing = false;
const fail = async (what: string, err: unknown) => {
  // What fails after the first failure (the page closed under a waiting step) is its consequence: not repeated.
  if (failing) return;
  failing = true;
  console.error(`dashboard-load: ${what}: ${describe(err)}`);
  process.exitCode = 1;
  phase = 'clean-up';
  await cleanUp();
  process.exit(1);
};
// A connection that errors outside any await (a database going away under an idle pool client) still says which phase.
process.on('uncaughtException', (err) => void fail(`uncaught error in phase ${phase}`, err));
process.on('unhandledRejection', (err) => void fail(`unhandled rejection in phase ${phase}`, err));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void fail(`interrupted in phase ${phase}`, new Error(signal)));
/** Runs `fn` as `name`: a failure says which phase it came from. */
const inPhase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
  if (failing) throw new Error(`phase ${name} not started: the run already failed`);
  phase = name;
  try {
    return await fn();
  } catch (err) {
    throw new Error(`phase ${name} failed: ${describe(err)}`, { cause: err });
  }
};
/** SIGTERM, then SIGKILL if `wharf up` has not stopped within `ms` (which is then an error: Ctrl-C would hang too). */
const stopWharf = async (wharf: RunningProcess, ms: number) => {
  if (wharf.child.exitCode !== null || wharf.child.signalCode !== null) return;
  wharf.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([wharf.exited.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)))]);
  clearTimeout(timer);
  if (stopped) return;
  wharf.child.kill('SIGKILL');
  await wharf.exited;
  throw new Error(`wharf up did not stop within ${ms / 1000} s of SIGTERM (killed); its output ends:\n${wharf.output().slice(-2_000)}`);
};

const work = await mkdtemp(path.join(tmpdir(), 'wharf-bench-dashboard-'));
cleanups.push({ name: 'remove the work directory', fn: () => rm(work, { recursive: true, force: true }) });
await chmod(work, 0o755);
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
  const browser = await inPhase('set-up', () => chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS, handleSIGINT: false, handleSIGTERM: false }));
  cleanups.push({ name: 'close the browser', fn: () => browser.close() });
  const db = await inPhase('set-up', () => benchDatabase(process.env.DATABASE_URL));
  cleanups.push({ name: 'drop the overview database', fn: () => db.close() });

  // 1 and 2: the overview with ENVS environments of the local owner.
  const fcp: number[] = [];
  const tti: number[] = [];
  await inPhase('overview', async () => {
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
    try {
      for (let i = 0; i < RUNS + 1; i++) {
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        try {
          // Interactive: the overview shows every environment and the main thread has no long task left: the end of
          // the last long task before QUIET_MS without one, or the ready mark when that comes later.
          await context.addInitScript(LONG_TASK_PROBE);
          const page = await context.newPage();
          await page.goto(`${server.url}/`);
          await page.waitForFunction(() => performance.getEntriesByName('wharf:overview-ready').length > 0, undefined, { timeout: 60_000, polling: 20 });
          const shown = (await page.evaluate(`document.querySelectorAll('.env-card').length`)) as number;
          if (shown !== ENVS) throw new Error(`the overview shows ${shown} environments, not ${ENVS}`);
          let idle = 0;
          for (let waited = 0; ; waited += 100) {
            const [ready, lastBusy, now] = (await page.evaluate(
              `[performance.getEntriesByName('wharf:overview-ready')[0].startTime, Math.max(0, ...window.__wharfLongTasks.map((t) => t[1])), performance.now()]`,
            )) as [number, number, number];
            idle = Math.max(ready, lastBusy);
            if (now - idle >= QUIET_MS) break;
            if (waited > 30_000) throw new Error('the main thread never stayed free of long tasks for 2 s');
            await new Promise((r) => setTimeout(r, 100));
          }
          const paint = (await page.evaluate(`performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1`)) as number;
          if (i > 0) {
            // The first load warms the server (the bundle read from disk, the database's caches).
            fcp.push(paint);
            tti.push(idle);
          }
        } finally {
          await context.close();
        }
      }
      const html = await (await fetch(`${server.url}/`)).text();
      const js = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      if (!js) throw new Error('the page names no script under /assets/');
      jsGzipKb = Math.round(((await gzipBytes(`${server.url}${js}`)) / 1024) * 10) / 10;
    } finally {
      await server.stop();
    }
  });
  console.log(`overview with ${ENVS} environments, ${RUNS} cold loads: FCP median ${Math.round(median(fcp))} ms, TTI median ${Math.round(median(tti))} ms; first page JS ${jsGzipKb} KB gzipped`);

  // 3: commit → browser, on wharf up with the local target, its database on the same server as the overview's.
  const repoDir = path.join(work, 'hello-api');
  const git = async (...args: string[]) => (await run('git', ['-c', 'user.name=Ada', '-c', 'user.email=ada@example.test', ...args], { cwd: repoDir })).stdout.trim();
  const local = await inPhase('wharf up', async () => {
    await cp(path.join(REPO_ROOT, 'examples/hello-api'), repoDir, { recursive: true });
    await git('init', '-q', '-b', 'main');
    await git('add', '-A');
    await git('commit', '-qm', 'First version');
    return benchDatabase(process.env.DATABASE_URL ?? db.url);
  });
  cleanups.push({ name: "drop wharf up's database", fn: () => local.close() });
  const wharf = startWharf(['up', '--repo', repoDir], { cwd: work, env: { DATABASE_URL: local.url, WHARF_PORT: '0', WHARF_ROUTER_PORT: '0', WHARF_DATA_DIR: path.join(work, '.wharf') } });
  // With the production page still open: `wharf up` must stop with a dashboard open (as after Ctrl-C).
  cleanups.push({ name: 'stop wharf up', fn: () => stopWharf(wharf, 30_000) });
  const toBrowser: number[] = [];
  const toReady: number[] = [];
  const page = await inPhase('wharf up', async () => {
    const [, url] = await wharf.waitFor(/dashboard (http:\/\/\S+?)\/\s/, 120_000);
    const page = await browser.newPage();
    await page.goto(`${url}/`);
    await page.locator('[data-env="hello-api/production"] [data-state="Ready"]').waitFor({ timeout: 120_000 });
    await page.locator('[data-env="hello-api/production"] a.env-name').click();
    await page.locator('.page-head [data-state="Ready"]').waitFor();
    return page;
  });
  const file = path.join(repoDir, 'workflow.yaml');
  for (let i = 1; i <= COMMITS; i++) {
    await inPhase(`commit ${i} of ${COMMITS}`, async () => {
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
    });
  }
  await inPhase('stop wharf up', async () => {
    cleanups.splice(cleanups.findIndex((c) => c.name === 'stop wharf up'), 1);
    await stopWharf(wharf, 30_000);
  });
  phase = 'clean-up';
  await cleanUp();
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
} catch (err) {
  await fail('failed', err);
}
