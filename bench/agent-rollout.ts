/**
 * agent-rollout: commit → URL answering, through the pull agent: `wharf up` (source, reconciler with the agent target,
 * agent API) as a child process, the agent's loop in this process with the strict fake Proxmox VE, whose guests are
 * real sshd, and the reference runtime on the guest.
 *   - new environment: a commit on a new branch (a new environment, so a new VM: clone, cloud-init, boot, address,
 *     SSH, upload, start, health, switch) until its URL answers; the fake's simulated boot delay is subtracted;
 *   - rollout: a commit on main until production (the environment of the default branch) answers the new version.
 *   npm run bench -- agent-rollout [--runs 5] [--boot-ms 1500]
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startAgent } from '@wharf/agent';
import { agents, environmentViews, EVERY_TENANT, sql } from '@wharf/store';
import { benchDatabase, median, percentile, startFakeProxmox, startWharf } from '@wharf/testkit';
import { argValue, sleep } from './support/replicas.js';

const run = promisify(execFile);
const RUNS = argValue('runs', 5);
const BOOT_MS = argValue('boot-ms', 1_500);
const LIMIT_MS = 120_000;
const ACL = ['VM.Audit', 'VM.Allocate', 'VM.Clone', 'VM.Config.Cloudinit', 'VM.Config.Options', 'VM.PowerMgmt', 'VM.Monitor', 'Datastore.AllocateSpace', 'Datastore.Audit', 'Sys.Audit', 'SDN.Use'];

const workflow = (message: string) => `modules:
  - name: server
    type: http.server
    config: { address: ":8080" }
  - name: router
    type: http.router
    dependsOn: [server]
workflows:
  http: { server: server, router: router, routes: [] }
pipelines:
  hello:
    trigger: { type: http, config: { path: /hello, method: GET } }
    steps:
      - name: respond
        type: step.json_response
        config: { status: 200, body: { message: "${message}" } }
`;

const db = await benchDatabase(process.env.DATABASE_URL);
const dir = await mkdtemp(path.join(tmpdir(), 'wharf-bench-agent-rollout-'));
await chmod(dir, 0o755);
const fake = await startFakeProxmox({
  nodes: [{ name: 'pve1', memoryGiB: 64, usedGiB: 8 }],
  templates: [{ vmid: 9000, node: 'pve1', name: 'debian-12-cloud' }],
  tokens: [{ id: 'wharf@pve!agent', secret: 'bench', acl: [{ path: '/', privileges: ACL }] }],
  bootDelayMs: BOOT_MS,
});
const repo = path.join(dir, 'repo');
await mkdir(repo);
const git = async (...args: string[]) => (await run('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', ...args], { cwd: repo })).stdout.trim();
await git('init', '-q', '-b', 'main');
await writeFile(path.join(repo, 'wharf.yaml'), 'apps:\n  - name: hello\n    files: [workflow.yaml]\n    target: agent:lab\n');
await writeFile(path.join(repo, 'workflow.yaml'), workflow('start'));
await git('add', '-A');
await git('commit', '-qm', 'start');

const wharf = startWharf(['up', '--repo', repo], { cwd: dir, env: { DATABASE_URL: db.url, WHARF_PORT: '0', WHARF_ROUTER_PORT: '0', WHARF_DATA_DIR: path.join(dir, '.wharf') } });
let agent: Awaited<ReturnType<typeof startAgent>> | undefined;
try {
  const [, url] = await wharf.waitFor(/Wharf is up at (http:\/\/\S+)/, 120_000);
  const tenant = (await environmentViews.listEnvironments(db.pool, EVERY_TENANT))[0]?.tenant_id ?? 1;
  const { token } = await agents.createRegistrationToken(db.pool, { tenantId: tenant }, { pool: 'lab', ttlMs: 3_600_000, createdBy: 'bench' });
  const config = path.join(dir, 'agent.yaml');
  await writeFile(
    config,
    `name: bench\nstateDir: ./agent-state\ncontrolPlane: { url: "${url}", registrationToken: ${token} }\nproxmox: { url: "${fake.url}", tokenId: "wharf@pve!agent", tokenSecret: bench, fingerprint: "${fake.fingerprint256}" }\nguest: { kind: qemu, templates: { pve1: 9000 }, user: wharf }\n`,
  );
  const { registerAgent } = await import('@wharf/agent');
  await registerAgent({ configFile: config });
  const quiet = { info: () => undefined, warn: (o: object, m?: string) => console.error(m, o), error: (o: object, m?: string) => console.error(m, o) };
  agent = await startAgent(config, quiet);

  const urlOf = async (name: string) => (await environmentViews.listEnvironments(db.pool, EVERY_TENANT)).find((e) => e.app === 'hello' && e.name === name)?.url ?? null;
  const answers = async (name: string, message: string, since: number) => {
    let last = '';
    for (;;) {
      const u = await urlOf(name);
      if (u) {
        const body = await fetch(`${u}hello`, { signal: AbortSignal.timeout(2_000) })
          .then(async (r) => `${r.status} ${await r.text()}`)
          .catch((err: Error) => `${err.message}: ${String((err.cause as Error | undefined)?.message ?? '')}`);
        last = `${u}hello → ${body.slice(0, 300)}`;
        if (body.includes(message)) return performance.now() - since;
      }
      if (performance.now() - since > LIMIT_MS) {
        const envs = await environmentViews.listEnvironments(db.pool, EVERY_TENANT);
        throw new Error(`${name} did not answer "${message}" within ${LIMIT_MS} ms (last: ${last}): ${JSON.stringify(envs.map((e) => [e.name, e.conditions, e.url]))} agent: ${JSON.stringify(agent?.loop.view())}\n${wharf.output().slice(-2000)}`);
      }
      await sleep(20);
    }
  };
  /**
   * Where the time of one run went, from the database's clock: the commit ingested (its version row), the document
   * published to the agent, the agent's report, and the URL answering (now).
   */
  const dbNow = async () => String(await db.pool.oneFirst(sql.unsafe`SELECT clock_timestamp()::text`));
  const breakdown = async (name: string, sha: string, since: string) => {
    const row = await db.pool.one(sql.unsafe`
      SELECT extract(epoch FROM (SELECT min(created_at) FROM versions WHERE sha = ${sha}) - ${since}::timestamptz) * 1000 AS ingested,
             extract(epoch FROM d.published_at - ${since}::timestamptz) * 1000 AS published,
             extract(epoch FROM d.reported_at - ${since}::timestamptz) * 1000 AS reported,
             extract(epoch FROM clock_timestamp() - ${since}::timestamptz) * 1000 AS answered
      FROM environments e JOIN agent_documents d ON d.environment_id = e.id WHERE e.app = 'hello' AND e.name = ${name}`);
    const ms = (k: string) => Math.round(Number(row[k]));
    // The URL can answer the new version before the agent's report of it is written: then the row still holds the report
    // of the previous document.
    const reported = ms('reported') >= ms('published') ? `+${ms('reported')} ms` : 'after the URL answered';
    return `ingested +${ms('ingested')} ms, published +${ms('published')} ms, agent reported ${reported}, answering +${ms('answered')} ms`;
  };
  await answers('production', 'start', performance.now());

  const fresh: number[] = [];
  for (let i = 1; i <= RUNS; i++) {
    await git('checkout', '-qb', `try-${i}`);
    await writeFile(path.join(repo, 'workflow.yaml'), workflow(`branch ${i}`));
    const since = await dbNow();
    await git('commit', '-qam', `branch ${i}`);
    const t0 = performance.now();
    const ms = await answers(`try-${i}`, `branch ${i}`, t0);
    fresh.push(ms - BOOT_MS);
    console.log(`new environment ${i}: ${Math.round(ms)} ms (${Math.round(ms - BOOT_MS)} ms without the simulated boot): ${await breakdown(`try-${i}`, await git('rev-parse', 'HEAD'), since)}`);
    await git('checkout', '-q', 'main');
  }
  const rollouts: number[] = [];
  for (let i = 1; i <= RUNS; i++) {
    await writeFile(path.join(repo, 'workflow.yaml'), workflow(`main ${i}`));
    const since = await dbNow();
    await git('commit', '-qam', `main ${i}`);
    const t0 = performance.now();
    const ms = await answers('production', `main ${i}`, t0);
    rollouts.push(ms);
    console.log(`rollout ${i}: ${Math.round(ms)} ms: ${await breakdown('production', await git('rev-parse', 'HEAD'), since)}`);
  }
  console.log(
    JSON.stringify({
      bench: 'agent-rollout',
      runs: RUNS,
      p50_ms: Math.round(median(fresh)),
      p95_ms: Math.round(percentile(fresh, 95)),
      rollout_p50_ms: Math.round(median(rollouts)),
      rollout_p95_ms: Math.round(percentile(rollouts, 95)),
      simulated_boot_ms: BOOT_MS,
    }),
  );
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await agent?.stop().catch(() => undefined);
  wharf.child.kill('SIGTERM');
  await wharf.exited;
  await fake.close();
  await db.close();
  await rm(dir, { recursive: true, force: true });
}
