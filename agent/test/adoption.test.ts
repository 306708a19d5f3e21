/** Crash recovery without duplicates: a guest cloned but never tagged (the agent died in between) is finished and adopted. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createEnvironmentAgent } from '../src/environment/environment-agent.js';
import { AgentError } from '../src/errors.js';
import { environmentKey, guestTags } from '../src/proxmox/guest-identity.js';
import { openStateStore } from '../src/state/agent-state.js';
import { agentKeys, clientFor, startCluster } from './helpers/fake-cluster.js';

const ENV = { app: 'orders', env: 'staging' };

t.test('a clone whose tagging failed is tagged and adopted on the next try, not cloned again', async (t) => {
  const fake = await startCluster();
  t.teardown(() => fake.close());
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-agent-state-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'state.json');
  const keys = agentKeys();
  const config = { agentId: 'lab-agent-9', guest: { kind: 'qemu' as const, templates: { pve2: 9001 }, full: false, user: 'wharf' }, sshPrivateKey: keys.private, sshPublicKey: keys.public, addressTimeoutMs: 20_000 };

  // The clone succeeds, then Proxmox becomes unreachable right when the agent writes the tags.
  fake.failProxy('pve2', 595, 1, /\/qemu\/\d+\/config$/);
  const first = createEnvironmentAgent({ pve: clientFor(fake), state: await openStateStore(file), config });
  const err = (await first.ensureGuest(ENV).catch((e: unknown) => e)) as AgentError;
  t.equal(err.reason, 'ProxmoxUnreachable');
  const orphan = [...fake.state.guests.values()].find((g) => !g.template)!;
  t.notOk(orphan.config.tags, 'the clone exists without tags');
  const saved = JSON.parse(await readFile(file, 'utf8')) as { environments: Record<string, { pendingVmid?: number }> };
  t.equal(saved.environments[environmentKey(ENV)]!.pendingVmid, orphan.vmid, 'the VMID was written ahead of the clone');

  // A restarted agent finishes the job on the same guest.
  const second = createEnvironmentAgent({ pve: clientFor(fake), state: await openStateStore(file), config });
  const info = await second.ensureGuest(ENV);
  t.equal(info.guest.vmid, orphan.vmid, 'adopted the orphan');
  t.equal(info.created, false);
  t.same(orphan.config.tags!.split(';').sort(), guestTags('lab-agent-9', ENV).sort(), 'and tagged it');
  t.equal([...fake.state.guests.values()].filter((g) => !g.template).length, 1, 'no second clone');
  t.equal(fake.requests.filter((r) => r.path.endsWith('/clone')).length, 1);
  const after = JSON.parse(await readFile(file, 'utf8')) as { environments: Record<string, { pendingVmid?: number; guest?: { vmid: number } }> };
  t.equal(after.environments[environmentKey(ENV)]!.pendingVmid, undefined, 'the write-ahead entry is cleared');
  t.equal(after.environments[environmentKey(ENV)]!.guest!.vmid, orphan.vmid);
});

t.test('an untagged guest at a remembered VMID that the agent did not create is left alone', async (t) => {
  const fake = await startCluster();
  t.teardown(() => fake.close());
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-agent-state-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'state.json');
  const store = await openStateStore(file);
  const keys = agentKeys();
  const config = { agentId: 'lab-agent-9', guest: { kind: 'qemu' as const, templates: { pve2: 9001 }, full: false, user: 'wharf' }, sshPrivateKey: keys.private, sshPublicKey: keys.public, addressTimeoutMs: 20_000 };
  // Someone else's VM sits at the VMID the agent had written ahead (it lost the race, then crashed).
  const foreign = await clientFor(fake).cloneTemplate({ kind: 'qemu', template: 9001, name: 'theirs', full: false, description: 'not wharf', tags: [] });
  fake.state.guests.get(foreign.vmid)!.config.tags = '';
  await store.update((s) => {
    s.environments[environmentKey(ENV)] = { app: ENV.app, env: ENV.env, pendingVmid: foreign.vmid };
  });
  const agent = createEnvironmentAgent({ pve: clientFor(fake), state: store, config });
  const info = await agent.ensureGuest(ENV);
  t.not(info.guest.vmid, foreign.vmid, 'a new guest was created instead');
  t.equal(fake.state.guests.get(foreign.vmid)!.config.tags, '', 'the foreign guest was not tagged');
  t.equal(fake.state.guests.get(foreign.vmid)!.status, 'stopped', 'nor started');
});
