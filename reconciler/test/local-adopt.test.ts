import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { tinyRuntimeCommand } from '@wharf/testkit';
import t from 'tap';
import { createLocalTarget } from '../src/targets/local/local-target.js';
import { silentLog, waitFor } from './helpers.js';
import { alive, get, tempDir } from './local-helpers.js';

t.test('after Wharf is killed -9, a new start adopts live runtimes and cleans up dead ones; nothing leaks', async (t) => {
  const stateDir = await tempDir(t, 'wharf-adopt-');
  const wharf = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(import.meta.dirname, 'fixtures', 'run-local-target.ts'), stateDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  wharf.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const { pids } = await waitFor('first run ready', async () => (out.includes('\n') ? (JSON.parse(out) as { pids: number[] }) : undefined), 60_000);
  const [prodPid = 0, prPid = 0] = pids;
  t.teardown(() => {
    for (const p of [prodPid, prPid]) if (alive(p)) process.kill(-p, 'SIGKILL');
  });
  wharf.kill('SIGKILL');
  await new Promise((r) => wharf.once('exit', r));
  t.ok(alive(prodPid) && alive(prPid), 'runtimes outlive a killed Wharf');
  process.kill(prPid, 'SIGKILL');
  await waitFor('pr-1 runtime dead', async () => !alive(prPid));

  const lt = await createLocalTarget({ stateDir, runtimeCommand: tinyRuntimeCommand(), log: silentLog, friendlyTenantId: 1 });
  const { adopted } = await lt.recover();
  t.same(adopted, [7], 'the live runtime is adopted');
  t.equal(lt.pidOf(7), prodPid);
  t.match((await get(lt.router.port, '/shop/prod/')).json, { digest: 'sha256:v1', pid: prodPid }, 'and served by the new router');
  const pr = path.join(stateDir, 'envs', '8');
  t.same((await readdir(pr)).sort(), ['data', 'identity.json'], 'the dead one is cleaned up but its data stays (the reconciler starts it again on it)');
  t.match(await lt.observe({ id: 8, tenantId: 1, repositoryId: 1, app: 'shop', name: 'pr-1', qualifier: null }, { signal: new AbortController().signal, log: silentLog }), { exists: false });
  await lt.close();
  t.notOk(alive(prodPid), 'close stops adopted runtimes too');
});
