/**
 * `wharf up` as root: runtimes run as the unprivileged runtime user, and what Wharf keeps for itself (the GitHub App's
 * private key, the embedded database's password and cluster, its log, the router's label key, the log socket) is out
 * of their reach. A runtime that tries (fixtures/probe-runtime.ts, started like any runtime) gets EACCES for each.
 */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, startWharf, TSX_LOADER, WHARF_BIN } from '@wharf/testkit';
import t from 'tap';

const run = promisify(execFile);
const PROBE = path.join(import.meta.dirname, 'fixtures', 'probe-runtime.ts');
const mode = async (p: string) => ((await stat(p)).mode & 0o7777).toString(8);

t.test('runtimes run as the runtime user and cannot read Wharf’s secrets, database or logs', { skip: process.getuid?.() !== 0 && 'needs root: runtimes switch users only when Wharf runs as root' }, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-confine-'));
  await chmod(dir, 0o755);
  const wharfDir = path.join(dir, '.wharf');
  const repo = path.join(dir, 'hello-api');
  await cp(path.join(REPO_ROOT, 'examples/hello-api'), repo, { recursive: true });
  const git = (...args: string[]) => run('git', ['-c', 'user.name=Ada', '-c', 'user.email=ada@example.test', ...args], { cwd: repo });
  await git('init', '-q', '-b', 'main');
  await git('add', '-A');
  await git('commit', '-qm', 'First version');
  // A private key left readable by an earlier version: start-up makes it Wharf's alone.
  await mkdir(wharfDir, { recursive: true });
  await writeFile(path.join(wharfDir, 'github-app.pem'), '-----BEGIN RSA PRIVATE KEY-----\nMIIEtest\n-----END RSA PRIVATE KEY-----\n', { mode: 0o644 });

  const wharf = startWharf(['up', '--repo', repo], {
    cwd: dir,
    env: {
      WHARF_PORT: '0',
      WHARF_ROUTER_PORT: '0',
      WHARF_DATA_DIR: wharfDir,
      WHARF_LOG_FILE: path.join(wharfDir, 'wharf.log'),
      WHARF_RUNTIME_COMMAND: `${process.execPath} --import ${TSX_LOADER} ${PROBE}`,
    },
  });
  t.teardown(async () => {
    wharf.child.kill('SIGTERM');
    await wharf.exited;
    await rm(dir, { recursive: true, force: true });
  });
  const [, router] = await wharf.waitFor(/router\s+(http:\/\/\S+)/, 120_000);
  let probe: { uid: number; gid: number; groups: number[]; execArgv: string[]; argv: string[]; attempts: Record<string, string> } | undefined;
  const until = Date.now() + 60_000;
  while (!probe && Date.now() < until) {
    const res = await fetch(`${router}/hello-api/production/probe`).catch(() => undefined);
    if (res?.status === 200) probe = (await res.json()) as typeof probe;
    else await new Promise((r) => setTimeout(r, 200));
  }
  if (!probe) return t.fail(`the probe runtime never answered\n${wharf.output().slice(-2000)}`);

  const [, uid, gid] = (await run('getent', ['passwd', 'wharf-runtime'])).stdout.trim().split(':').slice(1, 4);
  t.equal(probe.uid, Number(uid), 'runs as wharf-runtime');
  t.equal(probe.gid, Number(gid));
  t.same(probe.groups, [Number(gid)], "root's supplementary groups are dropped");
  t.ok(probe.execArgv.includes('--max-old-space-size=256'), 'with the heap limit, also for a custom node command');
  t.match(probe.argv.join(' '), /--config-root \S+\/config --host 127\.0\.0\.1 --port \d+ --data-dir \S+\/data/);
  t.notMatch(probe.argv.join(' '), /--allow-host/, 'no host allowed unless a setting allows it');

  const { attempts } = probe;
  for (const what of ['privateKey', 'databasePassword', 'databaseCluster', 'databaseVersionFile', 'wharfLog', 'listWharfDir', 'labelKey', 'logSocket', 'listEnvironments', 'ownerPidFile', 'writeOwnConfig', 'shadow']) {
    t.equal(attempts[what], 'EACCES', `${what}: refused`);
  }
  t.equal(attempts.readOwnConfig, 'ok', 'it reads its own config');
  t.equal(attempts.writeOwnData, 'ok', 'and writes its own data dir');

  t.equal(await mode(wharfDir), '711', 'WHARF_DATA_DIR: others pass through, never list');
  t.equal(await mode(path.join(wharfDir, 'github-app.pem')), '600', 'the private key is Wharf’s alone, even when it was left readable');
  t.equal(await mode(path.join(wharfDir, 'wharf-password')), '600');
  t.equal(await mode(path.join(wharfDir, 'pg')), '700');
  t.equal(await mode(path.join(wharfDir, 'wharf.log')), '600');

  // The owner reads logs over the socket the runtime could not open.
  const { DATABASE_URL: _testServer, ...env } = process.env;
  const { stdout } = await run(process.execPath, ['--import', TSX_LOADER, WHARF_BIN, 'logs', 'production'], { cwd: dir, env: { ...env, NODE_OPTIONS: '', WHARF_DATA_DIR: wharfDir } });
  t.match(stdout, /wharf {2}serving digest sha256:\S+ from pid \d+/, 'wharf logs works for the owner');
});
