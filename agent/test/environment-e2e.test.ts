/**
 * End to end at the agent's level: provision a guest through the fake Proxmox, deploy a runtime over real SSH,
 * answer on its URL, roll out a second version without a failed request, restart the agent from its state file and
 * adopt the guest without re-provisioning, refuse a changed host key, and tear down only what the agent created.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createEnvironmentAgent, type EnvironmentAgentConfig } from '../src/environment/environment-agent.js';
import { environmentKey, guestTags } from '../src/proxmox/guest-identity.js';
import { openStateStore } from '../src/state/agent-state.js';
import { openSsh } from '../src/deploy/ssh-session.js';
import { guestLayout, slotPorts } from '../src/deploy/guest-layout.js';
import { AgentError } from '../src/errors.js';
import { ADMIN_TOKEN, adminClientFor, agentKeys, clientFor, minimumAcl, OSTEMPLATE, startCluster, TOKEN_ID, TOKEN_SECRET } from './helpers/fake-cluster.js';
import { tinyRuntimeBundle } from './helpers/tiny-runtime-bundle.js';

const ENV = { app: 'hello-api', env: 'production' };

/** One GET on a fresh connection (no keep-alive), so every request really goes through the guest proxy. */
function fetchOnce(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

const release = async (digest: string, echo: string) => ({ digest, bundle: await tinyRuntimeBundle(), configs: [{ name: 'workflow.yaml', content: `# echo: ${echo}\nmodules: []\n` }] });

t.test('provision, deploy, roll out without downtime, restart and adopt, tear down only its own guest', async (t) => {
  const started = Date.now();
  // The agent's token holds exactly the documented minimum, scoped to its pool.
  const acl = minimumAcl({ pool: 'wharf', templates: [9000, 9001], storages: ['local-lvm'], bridges: ['vmbr0'] });
  const fake = await startCluster({
    pools: ['wharf'],
    tokens: [
      { id: TOKEN_ID, secret: TOKEN_SECRET, acl },
      { ...ADMIN_TOKEN, acl: [{ path: '/', privileges: ['VM.Audit', 'VM.Allocate', 'VM.Clone', 'VM.Config.Options', 'Datastore.AllocateSpace', 'SDN.Use'] }] },
    ],
  });
  t.teardown(() => fake.close());
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-agent-state-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const keys = agentKeys();
  const config: EnvironmentAgentConfig = {
    agentId: 'lab-agent-1',
    pool: 'wharf',
    guest: { kind: 'qemu', templates: { pve1: 9000, pve2: 9001 }, full: false, user: 'wharf' },
    sshPrivateKey: keys.private,
    sshPublicKey: keys.public,
    addressTimeoutMs: 20_000,
    healthTimeoutMs: 30_000,
    drainMs: 300,
  };
  const stateFile = path.join(dir, 'state.json');
  const agent = createEnvironmentAgent({ pve: clientFor(fake), state: await openStateStore(stateFile), config });

  // A guest someone else made, in the same cluster: it must survive everything below.
  const bystander = await adminClientFor(fake).cloneTemplate({ kind: 'qemu', template: 9001, name: 'not-ours', full: false, description: 'hands off', tags: ['prod'] });

  const t1 = Date.now();
  const v1 = await agent.deploy(ENV, await release('sha256:v1', 'hello from v1'), 'doc-1');
  t.comment(`provision + boot + first deploy: ${Date.now() - t1} ms`);
  t.equal(v1.serviceManager, 'supervisor', 'the test guest has no systemd: the supervisor runs the runtime');
  const first = await fetchOnce(`${v1.url}hello`);
  t.equal(first.status, 200);
  t.match(JSON.parse(first.body), { echo: 'hello from v1', digest: 'sha256:v1', path: '/hello' }, 'the URL answers with version 1');
  const state1 = JSON.parse(await readFile(stateFile, 'utf8'));
  const key = environmentKey(ENV);
  t.match(state1.environments[key], { app: 'hello-api', env: 'production', guest: { kind: 'qemu', node: 'pve2' }, applied: { documentHash: 'doc-1', digest: 'sha256:v1', url: v1.url } });
  const vmid = state1.environments[key].guest.vmid as number;
  t.match(state1.hostKeys[`pve2/${vmid}`], /^ssh-ed25519 AAAA/, 'the host key was pinned on first contact');
  t.same(fake.state.guests.get(vmid)!.config.tags!.split(';').sort(), guestTags('lab-agent-1', ENV).sort());
  t.equal(fake.state.guests.get(vmid)!.pool, 'wharf', 'the guest went into the agent pool');
  const outside = await clientFor(fake).destroy({ kind: 'qemu', node: 'pve2', vmid: bystander.vmid }, 'lab-agent-1').catch((e: unknown) => e as AgentError);
  t.equal((outside as AgentError).reason, 'PermissionDenied', 'outside its pool, Proxmox itself refuses the agent');

  // Roll out v2 while a client hammers the URL on fresh connections: not one request may fail.
  let stop = false;
  const seen = new Map<string, number>();
  const failures: string[] = [];
  const load = (async () => {
    while (!stop) {
      try {
        const r = await fetchOnce(`${v1.url}hello`);
        if (r.status !== 200) failures.push(`HTTP ${r.status}`);
        else {
          const d = (JSON.parse(r.body) as { digest: string }).digest;
          seen.set(d, (seen.get(d) ?? 0) + 1);
        }
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  })();
  const t2 = Date.now();
  const v2 = await agent.deploy(ENV, await release('sha256:v2', 'hello from v2'), 'doc-2');
  t.comment(`rollout of v2 (drain 300 ms included): ${Date.now() - t2} ms`);
  const after = await fetchOnce(`${v2.url}hello`);
  stop = true;
  await load;
  t.not(v2.slot, v1.slot, 'v2 ran in the other slot');
  t.equal(v2.url, v1.url, 'same URL');
  t.match(JSON.parse(after.body), { echo: 'hello from v2', digest: 'sha256:v2' });
  t.same(failures, [], 'no request failed during the swap');
  t.ok((seen.get('sha256:v1') ?? 0) > 0 && (seen.get('sha256:v2') ?? 0) > 0, `served v1 then v2 (${JSON.stringify([...seen])})`);

  // Restart: a new agent process, same state file. It adopts the guest and changes nothing for the same release.
  const requestsBefore = fake.requests.length;
  const restarted = createEnvironmentAgent({ pve: clientFor(fake), state: await openStateStore(stateFile), config });
  const again = await restarted.deploy(ENV, await release('sha256:v2', 'hello from v2'), 'doc-2');
  t.equal(again.changed, false, 'the running release was recognized: nothing redeployed');
  const calls = fake.requests.slice(requestsBefore).map((r) => `${r.method} ${r.path.replace(/\/tasks\/.*/, '/tasks/…')}`);
  t.notOk(calls.some((c) => /\/clone|POST \/nodes\/[^/]+\/lxc$/.test(c)), 'no clone after the restart');
  t.equal([...fake.state.guests.values()].filter((g) => !g.template).length, 2, 'still one guest for the environment (plus the bystander)');

  // Lost state: the agent finds its guest by tags alone.
  await rm(stateFile);
  const amnesiac = createEnvironmentAgent({ pve: clientFor(fake), state: await openStateStore(stateFile), config });
  const info = await amnesiac.ensureGuest(ENV);
  t.equal(info.guest.vmid, vmid, 'adopted by its tags');
  t.equal(info.created, false);

  // The guest's host key changes (rebuilt behind our back, or someone in the middle): refused, with both fingerprints.
  await fake.replaceHostKey(vmid);
  await fake.rebootSshd(vmid);
  const err = await restarted.deploy(ENV, await release('sha256:v3', 'v3'), 'doc-3').catch((e: unknown) => e);
  t.type(err, AgentError);
  t.equal((err as AgentError).reason, 'HostKeyChanged');
  t.match((err as AgentError).message, /SSH host key of 127\.\d+\.\d+\.\d+:22 changed: pinned SHA256:\S+, presented SHA256:\S+\. Refusing to connect/);
  t.equal((err as AgentError).retry, 'user-change');
  const recorded = JSON.parse(await readFile(stateFile, 'utf8')) as { environments: Record<string, { lastError?: { reason: string } }> };
  t.equal(recorded.environments[key]!.lastError?.reason, 'HostKeyChanged', 'the failure is in the state the agent reports from');

  // Logs of the live slot.
  const logs = await amnesiac.logs(ENV, 50);
  t.match(logs, /tiny runtime starting: 1 config file\(s\), digest sha256:v2/);

  // Tear down: only the agent's guest goes; the bystander stays.
  t.equal(await amnesiac.teardown(ENV), true);
  t.notOk(fake.state.guests.has(vmid), "the environment's guest is destroyed");
  t.ok(fake.state.guests.has(bystander.vmid), 'the guest the agent did not create is untouched');
  t.equal(fake.state.guests.get(bystander.vmid)!.config.name, 'not-ours');
  t.same(fake.problems, []);
  t.comment(`end-to-end wall time ${Date.now() - started} ms`);
});

t.test('a container environment: created with the key, deployed, torn down', async (t) => {
  const fake = await startCluster();
  t.teardown(() => fake.close());
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-agent-state-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const keys = agentKeys();
  const agent = createEnvironmentAgent({
    pve: clientFor(fake),
    state: await openStateStore(path.join(dir, 'state.json')),
    config: { agentId: 'lab-agent-2', guest: { kind: 'lxc', ostemplate: OSTEMPLATE, storage: 'local-lvm' }, sshPrivateKey: keys.private, sshPublicKey: keys.public, addressTimeoutMs: 20_000, drainMs: 100 },
  });
  const r = await agent.deploy({ app: 'items', env: 'pr-7' }, await release('sha256:ct1', 'from a container'), 'doc');
  t.match(JSON.parse((await fetchOnce(`${r.url}x`)).body), { echo: 'from a container', digest: 'sha256:ct1' });
  const ct = [...fake.state.guests.values()].find((g) => g.kind === 'lxc')!;
  t.equal(ct.node, 'pve2', 'placed on the node with the most free memory');
  t.equal(await agent.teardown({ app: 'items', env: 'pr-7' }), true);
  t.notOk(fake.state.guests.has(ct.vmid));
});

t.test('a release that never gets healthy is stopped; the previous one keeps serving', async (t) => {
  const fake = await startCluster();
  t.teardown(() => fake.close());
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-agent-state-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const keys = agentKeys();
  const agent = createEnvironmentAgent({
    pve: clientFor(fake),
    state: await openStateStore(path.join(dir, 'state.json')),
    config: { agentId: 'lab-agent-3', guest: { kind: 'qemu', templates: { pve2: 9001 }, full: false, user: 'wharf' }, sshPrivateKey: keys.private, sshPublicKey: keys.public, addressTimeoutMs: 20_000, healthTimeoutMs: 3_000, drainMs: 100 },
  });
  const ok = await agent.deploy(ENV, await release('sha256:good', 'good'), 'doc-1');
  const bad = { ...(await release('sha256:bad', 'bad')), env: { TINY_RUNTIME_MODE: 'never-healthy' } };
  const err = (await agent.deploy(ENV, bad, 'doc-2').catch((e: unknown) => e)) as AgentError;
  t.equal(err.reason, 'RuntimeUnhealthy');
  t.match(err.message, /did not become healthy with digest sha256:bad .*the previous release keeps serving/s);
  t.match(JSON.parse((await fetchOnce(`${ok.url}y`)).body), { echo: 'good', digest: 'sha256:good' }, 'still the good release');
});

t.test('the supervisor restarts a runtime that dies', async (t) => {
  const fake = await startCluster();
  t.teardown(() => fake.close());
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-agent-state-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const keys = agentKeys();
  const file = path.join(dir, 'state.json');
  const agent = createEnvironmentAgent({
    pve: clientFor(fake),
    state: await openStateStore(file),
    config: { agentId: 'lab-agent-4', guest: { kind: 'qemu', templates: { pve2: 9001 }, full: false, user: 'wharf' }, sshPrivateKey: keys.private, sshPublicKey: keys.public, addressTimeoutMs: 20_000 },
  });
  const r = await agent.deploy(ENV, await release('sha256:s1', 'sturdy'), 'doc');
  const before = JSON.parse((await fetchOnce(`${r.url}p`)).body) as { pid: number };
  const state = JSON.parse(await readFile(file, 'utf8')) as { environments: Record<string, { address: string; guest: { node: string; vmid: number } }>; hostKeys: Record<string, string> };
  const env = state.environments[environmentKey(ENV)]!;
  const ssh = await openSsh({ host: env.address, port: 22, username: 'wharf', privateKey: keys.private, pinnedHostKey: state.hostKeys[`${env.guest.node}/${env.guest.vmid}`] });
  t.teardown(() => ssh.close());
  const home = (await ssh.run('printf %s "$HOME"', 'home')).trim();
  const slotDir = guestLayout(home, environmentKey(ENV)).slot(r.slot);
  t.equal(r.port, slotPorts(environmentKey(ENV))[r.slot]);
  // Kill the runtime (the supervisor's child) hard, as an OOM kill would.
  await ssh.run(`kill -KILL $(ps -o pid= --ppid "$(cat ${slotDir}/supervise.pid)")`, 'killing the runtime');
  let after: { pid: number; digest: string } | undefined;
  for (let i = 0; i < 200 && !(after && after.pid !== before.pid); i++) {
    after = await fetchOnce(`${r.url}p`).then((x) => JSON.parse(x.body) as { pid: number; digest: string }).catch(() => undefined);
    if (!after || after.pid === before.pid) await new Promise((res) => setTimeout(res, 100));
  }
  t.ok(after && after.pid !== before.pid, 'a new runtime process answers');
  t.equal(after?.digest, 'sha256:s1');
  t.match(await agent.logs(ENV, 50), /wharf supervise: exited with status 137, restarting/);
});
