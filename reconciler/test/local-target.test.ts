import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { tinyRuntimeCommand } from '@wharf/testkit';
import t from 'tap';
import type { TargetEnvironment } from '@wharf/contracts';
import { createLocalTarget, type LocalTarget } from '../src/targets/local/local-target.js';
import { silentLog, specFor, waitFor } from './helpers.js';
import { alive, get, tempDir } from './local-helpers.js';

const envOf = (version: string, generation: number, env: Record<string, string> = {}): TargetEnvironment => ({
  id: 7,
  tenantId: 1,
  repositoryId: 1,
  app: 'shop',
  name: 'prod',
  qualifier: null,
  kind: 'production',
  generation,
  digest: `sha256:${version}`,
  spec: specFor('shop', 'prod', version, { env: Object.entries(env).map(([name, value]) => ({ name, value })) }),
});
const REF = { id: 7, tenantId: 1, repositoryId: 1, app: 'shop', name: 'prod', qualifier: null };
const ctx = (action: 'create' | 'update' | 'restart' = 'update') => ({ signal: new AbortController().signal, log: silentLog, action });

async function target(t: { teardown(fn: () => unknown): void }, stateDir: string, extra: Partial<Parameters<typeof createLocalTarget>[0]> = {}): Promise<LocalTarget> {
  const lt = await createLocalTarget({
    stateDir,
    runtimeCommand: tinyRuntimeCommand(),
    log: silentLog,
    healthTimeoutMs: 20_000,
    drainTimeoutMs: 2_000,
    stopGraceMs: 1_000,
    restartBaseMs: 200,
    friendlyTenantId: 1,
    ...extra,
  });
  t.teardown(() => lt.close());
  return lt;
}

t.test('serves an environment through the router by host and by path; swaps without a failed request', async (t) => {
  const lt = await target(t, await tempDir(t, 'wharf-local-'));
  const port = lt.router.port;
  const first = await lt.apply(envOf('v1', 1), ctx('create'));
  t.same(first, { status: 'ready', url: `http://prod--shop.localhost:${port}/` });
  const byHost = await get(port, '/orders?x=1', `prod--shop.localhost:${port}`);
  t.match(byHost.json, { echo: 'shop v1', digest: 'sha256:v1', path: '/orders?x=1' });
  const byPath = await get(port, '/shop/prod/orders');
  t.match(byPath.json, { echo: 'shop v1', path: '/orders' });
  t.equal((await get(port, '/shop/nope/')).status, 404);
  t.match(await lt.observe(REF, ctx()), {
    exists: true,
    digest: 'sha256:v1',
    healthy: true,
    observedGeneration: 1,
    instances: [{ name: /^pid \d+$/, digest: 'sha256:v1', healthy: true, host: 'localhost' }],
  });
  const oldPid = lt.pidOf(7) ?? 0;

  let failed = 0;
  let ok = 0;
  const seen = new Set<string>();
  let loading = true;
  const load = (async () => {
    while (loading) {
      const batch = await Promise.all(Array.from({ length: 5 }, () => get(port, '/', `prod--shop.localhost:${port}`).catch(() => ({ status: 0, json: {} as Record<string, unknown> }))));
      for (const r of batch) {
        if (r.status === 200) {
          ok++;
          seen.add(String(r.json.digest));
        } else failed++;
      }
    }
  })();
  await waitFor('some requests', async () => ok > 20);
  await lt.apply(envOf('v2', 2), ctx('update'));
  await waitFor('old runtime stopped', async () => !alive(oldPid), 10_000);
  const after = ok;
  await waitFor('requests after the swap', async () => ok > after + 20);
  loading = false;
  await load;
  t.equal(failed, 0, `no failed request during the swap (${ok} ok)`);
  t.same([...seen].sort(), ['sha256:v1', 'sha256:v2']);
  t.not(lt.pidOf(7), oldPid);
});

t.test('a version that never becomes healthy: error with its last output, previous version still serving', async (t) => {
  // 5 s: long enough for the healthy v1 to start on a loaded machine, short enough to wait out v2.
  const lt = await target(t, await tempDir(t, 'wharf-local-'), { healthTimeoutMs: 5_000 });
  await lt.apply(envOf('v1', 1), ctx('create'));
  const pid = lt.pidOf(7);
  const err = await lt.apply(envOf('v2', 2, { TINY_RUNTIME_MODE: 'never-healthy' }), ctx()).catch((e: unknown) => e);
  t.match(err, { reason: 'RuntimeUnhealthy', kind: 'generic' });
  t.match((err as Error).message, /did not become healthy within 5s/);
  t.match((err as Error).message, /previous version sha256:v1 still serving/);
  t.match((err as Error).message, /last output: .*tiny runtime starting/);
  t.equal(lt.pidOf(7), pid, 'old runtime kept');
  t.match((await get(lt.router.port, '/shop/prod/')).json, { digest: 'sha256:v1' });
  const exits = await lt.apply(envOf('v3', 3, { TINY_RUNTIME_MODE: 'exit-on-start' }), ctx()).catch((e: unknown) => e);
  t.match((exits as Error).message, /exited with code 3 before it became healthy/);
});

t.test('a crashed runtime restarts with backoff; logs keep its output', async (t) => {
  const lt = await target(t, await tempDir(t, 'wharf-local-'));
  await lt.apply(envOf('v1', 1), ctx('create'));
  const pid = lt.pidOf(7) ?? 0;
  process.kill(pid, 'SIGKILL');
  await waitFor('restarted', async () => {
    const p = lt.pidOf(7);
    return p !== undefined && p !== pid && (await get(lt.router.port, '/shop/prod/')).json.pid === p;
  });
  const lines: string[] = [];
  for await (const l of lt.logs(REF)) lines.push(l.line);
  t.ok(lines.some((l) => /runtime exited with code null; restarting in \d+ ms/.test(l)), 'the crash is in the log');
  t.ok(lines.some((l) => /tiny runtime starting/.test(l)), 'runtime stderr is in the log');
  t.equal((await get(lt.router.port, '/.wharf/logs/7')).status, 404, 'the router serves no logs');

  // Following: the kept lines, then new ones as they come, until the reader stops.
  const stop = new AbortController();
  const followed: string[] = [];
  const reading = (async () => {
    for await (const l of lt.logs(REF, { follow: true, tail: 1, signal: stop.signal })) {
      followed.push(l.line);
      if (/runtime exited/.test(l.line) && followed.length > 1) stop.abort();
    }
  })();
  await waitFor('following', async () => followed.length === 1);
  process.kill(lt.pidOf(7) ?? 0, 'SIGKILL');
  await reading;
  t.equal(followed.length >= 2, true, 'the tail line, then the new crash line');
  t.match(followed.at(-1), /runtime exited/);
});

t.test('teardown kills the whole process tree and removes the work dir', async (t) => {
  const stateDir = await tempDir(t, 'wharf-local-');
  const lt = await target(t, stateDir);
  await lt.apply(envOf('v1', 1, { TINY_RUNTIME_CHILD: '1' }), ctx('create'));
  const pid = lt.pidOf(7) ?? 0;
  const envDir = path.join(stateDir, 'envs', '7');
  const childPidFile = await waitFor('child pid', async () => {
    const f = path.join(envDir, 'data', 'child.pid');
    return existsSync(f) ? f : undefined;
  });
  const childPid = Number(await readFile(childPidFile, 'utf8'));
  t.ok(alive(childPid));
  t.same(await lt.delete(REF, ctx()), { status: 'deleted' });
  t.notOk(alive(pid), 'runtime gone');
  t.notOk(alive(childPid), "runtime's child gone");
  t.notOk(existsSync(envDir), 'work dir and data removed');
  t.equal((await get(lt.router.port, '/shop/prod/')).status, 404);
  t.match(await lt.observe(REF, ctx()), { exists: false });
});
