/**
 * The pull agent's story with real parts: Wharf (`wharf up`) and the agent (`wharf agent run`) as processes, a real
 * database and Git repository, the strict fake Proxmox VE whose guests are real sshd, and the reference runtime on
 * the guest. Register an agent; commit an app with `target: agent:lab`; the agent clones a VM, boots it, deploys
 * over SSH and the URL answers; a new commit rolls out; a revert rolls back; the control plane is killed mid-rollout
 * and restarted, and nothing is lost or done twice; the agent goes away (AgentOffline, the guest keeps serving) and
 * comes back (it converges).
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { environmentState, formatState } from '@wharf/contracts';
import { agents, environmentViews, EVERY_TENANT, history, sql } from '@wharf/store';
import { createTestDatabase, startFakeProxmox, startWharf, tempDir, type RunningProcess } from '@wharf/testkit';
import t from 'tap';
import { main } from '../src/main.js';

const run = promisify(execFile);
t.setTimeout(600_000);

const TOKEN_ID = 'wharf@pve!agent';
const TOKEN_SECRET = 'story-token-secret';
const GUEST_PRIVILEGES = ['VM.Audit', 'VM.Allocate', 'VM.Clone', 'VM.Config.Cloudinit', 'VM.Config.Options', 'VM.PowerMgmt', 'VM.Monitor'];

const manifest = `apps:\n  - name: hello-api\n    files: [workflow.yaml]\n    target: agent:lab\n`;
const workflow = (message: string) => `modules:
  - name: server
    type: http.server
    config:
      address: ":8080"
  - name: router
    type: http.router
    dependsOn: [server]
workflows:
  http:
    server: server
    router: router
    routes: []
pipelines:
  hello:
    trigger:
      type: http
      config: { path: /hello, method: GET }
    steps:
      - name: respond
        type: step.json_response
        config:
          status: 200
          body:
            message: "${message}"
`;

t.test('register, commit, deploy over SSH, roll out, roll back, survive a control-plane crash, go offline and come back', async (t) => {
  const db = await createTestDatabase(t);
  const dir = await tempDir(t, 'wharf-agent-story-');
  await chmod(dir, 0o755);
  const fake = await startFakeProxmox({
    nodes: [{ name: 'pve1', memoryGiB: 32, usedGiB: 20 }, { name: 'pve2', memoryGiB: 64, usedGiB: 8 }],
    templates: [
      { vmid: 9000, node: 'pve1', name: 'debian-12-cloud' },
      { vmid: 9001, node: 'pve2', name: 'debian-12-cloud' },
    ],
    pools: ['wharf'],
    bootDelayMs: 300,
    tokens: [
      {
        id: TOKEN_ID,
        secret: TOKEN_SECRET,
        acl: [
          { path: '/pool/wharf', privileges: GUEST_PRIVILEGES },
          { path: '/vms/9000', privileges: ['VM.Audit', 'VM.Clone'] },
          { path: '/vms/9001', privileges: ['VM.Audit', 'VM.Clone'] },
          { path: '/storage/local-lvm', privileges: ['Datastore.AllocateSpace', 'Datastore.Audit'] },
          { path: '/nodes', privileges: ['Sys.Audit'] },
          { path: '/sdn/zones/localnetwork/vmbr0', privileges: ['SDN.Use'] },
        ],
      },
    ],
  });
  t.teardown(() => fake.close());

  const repo = path.join(dir, 'repo');
  await mkdir(repo);
  const git = async (...args: string[]) => (await run('git', ['-c', 'user.name=Ada', '-c', 'user.email=ada@example.test', ...args], { cwd: repo })).stdout.trim();
  await git('init', '-q', '-b', 'main');
  await writeFile(path.join(repo, 'README.md'), '# lab apps\n');
  await git('add', '-A');
  await git('commit', '-qm', 'Empty repository');

  const upEnv = {
    DATABASE_URL: db.url,
    WHARF_PORT: '0',
    WHARF_ROUTER_PORT: '0',
    WHARF_DATA_DIR: path.join(dir, '.wharf'),
    WHARF_AGENT_STALE_AFTER: '2',
    WHARF_AGENT_OFFLINE_AFTER: '4',
  };
  let wharf: RunningProcess = startWharf(['up', '--repo', repo], { cwd: dir, env: upEnv });
  let agentProc: RunningProcess | undefined;
  t.teardown(async () => {
    agentProc?.child.kill('SIGTERM');
    wharf.child.kill('SIGTERM');
    await Promise.all([agentProc?.exited, wharf.exited]);
  });
  const [, url] = await wharf.waitFor(/Wharf is up at (http:\/\/\S+)/, 120_000);

  const cli = async (...args: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await main(args, {
      stdout: (s) => void (stdout += s),
      stderr: (s) => void (stderr += s),
      cwd: dir,
      env: { DATABASE_URL: db.url, WHARF_AGENT_STALE_AFTER: '2', WHARF_AGENT_OFFLINE_AFTER: '4' },
      waitForStop: () => new Promise(() => undefined),
    });
    return { code, stdout, stderr };
  };

  // The owner makes a registration token; the agent's host exchanges it for its credential.
  const created = await cli('agent', 'token', 'create', '--pool', 'lab', '--ttl', '1h');
  t.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  t.match(token, /^wharf_reg_/);
  const config = path.join(dir, 'agent.yaml');
  await writeFile(
    config,
    `# the lab's agent
name: lab-1
stateDir: ./agent-state
controlPlane:
  url: ${url}
  registrationToken: ${token}
proxmox:
  url: ${fake.url}
  tokenId: "${TOKEN_ID}"
  tokenSecret: ${TOKEN_SECRET}
  fingerprint: "${fake.fingerprint256}"
  pool: wharf
guest:
  kind: qemu
  templates: { pve1: 9000, pve2: 9001 }
  user: wharf
timeouts:
  addressSeconds: 30
  healthSeconds: 60
`,
  );
  const registered = await cli('agent', 'register', '--config', config);
  t.equal(registered.code, 0, registered.stderr);
  t.match(registered.stdout, /registered as agent \d+ \(lab-1\) in pool lab/);
  const configText = await readFile(config, 'utf8');
  t.notMatch(configText, /wharf_reg_/, 'the bootstrap token is gone from the config');
  t.match(configText, /^# the lab's agent/, 'the rest of the config is kept as written');
  const again = await cli('agent', 'register', '--config', config, '--token', token);
  t.equal(again.code, 1);
  t.match(again.stderr, /already registered as agent \d+/, 'a registered agent does not register twice');

  const startAgent = () => startWharf(['agent', 'run', '--config', config], { cwd: dir, env: { WHARF_LOG_LEVEL: 'info' } });
  agentProc = startAgent();
  await agentProc.waitFor(/agent running/, 60_000);

  const production = async () => (await environmentViews.listEnvironments(db.pool, EVERY_TENANT)).find((e) => e.app === 'hello-api' && e.name === 'production');
  const stateOf = async () => {
    const e = await production();
    return e ? formatState(environmentState({ conditions: e.conditions })) : 'none';
  };
  const eventually = async (what: string, check: () => Promise<boolean>, seconds = 90) => {
    const until = Date.now() + seconds * 1000;
    while (Date.now() < until) {
      if (await check().catch(() => false)) return t.pass(what);
      await new Promise((r) => setTimeout(r, 200));
    }
    t.fail(`${what}: not within ${seconds} s (state ${await stateOf()})\nwharf:\n${wharf.output().slice(-3000)}\nagent:\n${agentProc?.output().slice(-3000)}`);
    throw new Error(what);
  };
  const answer = async () => {
    const e = await production();
    if (!e?.url) return '';
    const res = await fetch(`${e.url}hello`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    return res ? await res.text() : '';
  };
  const commit = async (message: string, subject: string) => {
    await writeFile(path.join(repo, 'workflow.yaml'), workflow(message));
    await writeFile(path.join(repo, 'wharf.yaml'), manifest);
    await git('add', '-A');
    await git('commit', '-qm', subject);
    return git('rev-parse', 'HEAD');
  };
  const readyAt = async (digestOf: () => Promise<string | null | undefined>) => {
    const e = await production();
    return !!e && (await stateOf()) === 'Ready' && e.observed_generation === e.generation && e.observed_digest === (await digestOf());
  };

  // Commit an app for the lab's agents: the agent clones, boots, deploys over SSH; the URL answers.
  await commit('Hello from the lab', 'First version');
  await eventually('production is Ready on the agent', async () => readyAt(async () => (await production())?.desired_digest));
  const e1 = (await production())!;
  t.match(e1.url, /^http:\/\/127\.\d+\.\d+\.\d+:8080\/$/, 'the URL is the guest’s');
  t.match(await answer(), /Hello from the lab/, 'the URL answers, served by the reference runtime on the guest');
  const guests = () => [...fake.state.guests.values()].filter((g) => !g.template);
  t.equal(guests().length, 1, 'one VM');
  t.equal(guests()[0]!.pool, 'wharf');

  // A new commit rolls out.
  await commit('Hello again from the lab', 'New greeting');
  await eventually('the new version answers', async () => (await answer()).includes('Hello again from the lab'));
  await eventually('and production is Ready at it', async () => readyAt(async () => (await production())?.desired_digest));

  // A revert rolls back.
  await git('revert', '--no-edit', 'HEAD');
  await eventually('the revert answers with the first version', async () => (await answer()).includes('"Hello from the lab"'));
  await eventually('Ready after the rollback', async () => readyAt(async () => (await production())?.desired_digest));
  const rows = await history.listHistory(db.pool, { tenantId: e1.tenant_id }, e1.id);
  t.match(rows.map((r) => r.result), ['succeeded', 'succeeded', 'succeeded'], 'three rollouts, all succeeded');
  t.ok(rows.some((r) => r.rollback_of_version_id !== null), 'the revert is recorded as a rollback');

  // Kill the control plane mid-rollout, then start it again.
  await commit('Hello after the crash', 'Crash test');
  await eventually('the agent got the new document', async () => {
    const e = await production();
    const n = await db.pool.oneFirst(sql.unsafe`SELECT count(*) FROM agent_documents WHERE environment_id = ${e!.id} AND generation = ${e!.generation}`);
    return Number(n) === 1 && (await stateOf()).startsWith('Progressing');
  });
  wharf.child.kill('SIGKILL');
  await wharf.exited;
  t.pass('the control plane was killed while the rollout was under way');
  t.match(await answer().then((b) => b || 'none'), /Hello/, 'the guest keeps serving while the control plane is down');
  // The control plane comes back where agents know it: the same address.
  wharf = startWharf(['up', '--repo', repo], { cwd: dir, env: { ...upEnv, WHARF_PORT: new URL(url!).port } });
  await wharf.waitFor(/Wharf is up at/, 120_000);
  await eventually('after the restart the rollout completes', async () => (await answer()).includes('Hello after the crash') && readyAt(async () => (await production())?.desired_digest), 120);
  const e4 = (await production())!;
  const all = await history.listHistory(db.pool, { tenantId: e4.tenant_id }, e4.id);
  t.equal(all.length, 4, 'one history row per rollout: none lost, none twice');
  t.equal(new Set(all.map((r) => r.generation)).size, all.length);
  t.equal(guests().length, 1, 'still one VM: nothing provisioned twice');
  const statuses = await db.pool.any(sql.unsafe`SELECT dedupe_key FROM outbox WHERE environment_id = ${e4.id} AND kind = 'deployment_status'`);
  t.equal(new Set(statuses.map((s) => s.dedupe_key)).size, statuses.length, 'no deployment status queued twice');

  // The agent goes away: the environment shows AgentOffline (never failed, never torn down); the guest keeps serving.
  agentProc.child.kill('SIGTERM');
  await agentProc.exited;
  await eventually('Ready=Unknown with AgentOffline', async () => {
    const e = await production();
    const ready = e?.conditions.find((c) => c.type === 'Ready');
    return ready?.status === 'Unknown' && ready.reason === 'AgentOffline';
  }, 60);
  const offline = (await production())!;
  t.equal(offline.failure_count, 0, 'not counted as a failure');
  t.notOk(offline.conditions.some((c) => c.type === 'Degraded' && c.status === 'True'), 'not Degraded');
  t.match(await answer(), /Hello after the crash/, 'the guest keeps serving');
  t.equal(guests().length, 1, 'nothing torn down');
  const listed = await cli('agent', 'list');
  t.match(listed.stdout, /lab-1\s+lab\s+Offline/);

  // It comes back and converges.
  agentProc = startAgent();
  await eventually('Ready again once the agent is back', async () => readyAt(async () => (await production())?.desired_digest), 90);
  t.match(await answer(), /Hello after the crash/);
  let status = '';
  await eventually("the agent's own view: connected, the environment Ready on its VM", async () => {
    status = (await cli('agent', 'status', '--config', config)).stdout;
    return /control plane: connected/.test(status) && /hello-api\/production\s+#\d+\s+Ready\s+vm \d+@pve2\s+http:\/\/127/.test(status);
  });
  t.comment(status);
  t.same(fake.problems, [], 'the agent asked the fake Proxmox nothing it does not implement');
  const agentRows = await agents.listAgents(db.pool, { tenantId: e4.tenant_id });
  t.equal(agentRows.length, 1);
});
