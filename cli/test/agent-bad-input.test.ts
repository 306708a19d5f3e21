/**
 * Bad input, through the whole loop (agent API, reconciler with the agent target, the agent's loop, the strict fake
 * Proxmox with real sshd guests): each fault ends in a precise condition on the environment and in the agent's own
 * view, is retried with backoff where retrying can help, and never costs a guest the agent did not create.
 */
import { readView } from '@wharf/agent';
import { createTestDatabase, startFakeProxmox, tempDir, type AclEntry } from '@wharf/testkit';
import { desiredState, sql } from '@wharf/store';
import t from 'tap';
import { deployTo, environment, spec, startAgent, startControlPlane, TOKEN_ID, TOKEN_SECRET, until } from './agent-harness.js';

t.setTimeout(400_000);

const ALL: AclEntry[] = [
  { path: '/', privileges: ['VM.Audit', 'VM.Allocate', 'VM.Clone', 'VM.Config.Cloudinit', 'VM.Config.Options', 'VM.PowerMgmt', 'VM.Monitor', 'Datastore.AllocateSpace', 'Datastore.Audit', 'Sys.Audit', 'SDN.Use'] },
];

const condition = (e: { conditions: { type: string; status: string; reason: string; message: string }[] } | undefined, type: string) => e?.conditions.find((c) => c.type === type);

t.test('each fault ends in a precise condition, retried where it helps, and no foreign guest is touched', async (t) => {
  const db = await createTestDatabase(t);
  const dir = await tempDir(t, 'wharf-agent-bad-');
  const fake = await startFakeProxmox({
    nodes: [{ name: 'pve1', memoryGiB: 32, usedGiB: 20 }, { name: 'pve2', memoryGiB: 64, usedGiB: 8 }],
    templates: [
      { vmid: 9000, node: 'pve1', name: 'debian-12-cloud' },
      { vmid: 9001, node: 'pve2', name: 'debian-12-cloud' },
      { vmid: 9100, node: 'pve2', name: 'no-agent-image', agent: false },
    ],
    tokens: [{ id: TOKEN_ID, secret: TOKEN_SECRET, acl: ALL }],
  });
  t.teardown(() => fake.close());
  const cp = await startControlPlane(t, db);
  const admin = await import('@wharf/agent').then((a) =>
    a.createPveClient(a.createPveHttp({ url: fake.url, tokenId: TOKEN_ID, tokenSecret: TOKEN_SECRET, fingerprint256: fake.fingerprint256 }), { pollMs: 20 }),
  );
  // Guests the agents did not create: one untagged, one carrying another agent's wharf tags for the same environment key.
  const bystander = await admin.cloneTemplate({ kind: 'qemu', template: 9001, name: 'not-ours', full: false, description: 'hands off', tags: ['prod'] });
  const impostor = await admin.cloneTemplate({ kind: 'qemu', template: 9001, name: 'someone-else', full: false, description: 'another agent', tags: ['wharf', 'wharf-a-000000000000', 'wharf-e-000000000000'] });
  const foreign = () => [bystander.vmid, impostor.vmid].map((id) => fake.state.guests.get(id)?.config.name);

  await t.test('a template that does not exist: Stalled (TemplateNotFound), no guest made', async (t) => {
    const agent = await startAgent(t, db, cp, fake, { pool: 'no-template', dir, guest: { kind: 'qemu', templates: { pve2: 9999 }, full: false, user: 'wharf' } });
    const id = await deployTo(db, cp, 'tpl', 'no-template');
    const e = await until('Stalled', () => environment(db, id), (e) => e?.state === 'Stalled (TemplateNotFound)');
    t.match(condition(e, 'Stalled')?.message, /template 9999 does not exist in the cluster: create it or fix the agent's template setting/);
    const view = await readView(agent.stateDir);
    t.match(view?.environments[0], { environmentId: id, state: 'Failed', reason: 'TemplateNotFound' }, "the agent's own view says the same");
    t.equal(e?.failure_count, 0, 'a user change is needed: no retry storm');
  });

  await t.test('a full storage: Stalled (StorageFull)', async (t) => {
    fake.state.node('pve2')!.storages.get('local-lvm')!.full = true;
    t.teardown(() => void (fake.state.node('pve2')!.storages.get('local-lvm')!.full = false));
    await startAgent(t, db, cp, fake, { pool: 'full-disk', dir, guest: { kind: 'qemu', templates: { pve2: 9001 }, full: true, storage: 'local-lvm', user: 'wharf' } });
    const id = await deployTo(db, cp, 'disk', 'full-disk');
    const e = await until('Stalled', () => environment(db, id), (e) => e?.state === 'Stalled (StorageFull)');
    t.match(condition(e, 'Stalled')?.message, /insufficient free space/);
  });

  await t.test('a lost VMID race: retried with a fresh id, and the winner’s guest is left alone', async (t) => {
    const before = fake.state.guests.size;
    fake.loseVmidRace(2);
    await startAgent(t, db, cp, fake, { pool: 'race', dir });
    const id = await deployTo(db, cp, 'race', 'race');
    const e = await until('Ready', () => environment(db, id), (e) => e?.state === 'Ready');
    t.match(e?.url, /^http:\/\/127\./);
    const squatters = [...fake.state.guests.values()].filter((g) => g.config.name === 'someone-elses-vm');
    t.equal(squatters.length, 2, 'both guests that won the race still exist');
    t.equal(fake.state.guests.size, before + 3, 'two squatters and one guest of ours');
  });

  await t.test('an unreachable node (595): Degraded (ProxmoxUnreachable) while it lasts, retried with backoff, then Ready', async (t) => {
    fake.failProxy('pve2', 595, 4, /\/clone$/);
    await startAgent(t, db, cp, fake, { pool: 'flaky', dir });
    const id = await deployTo(db, cp, 'flaky', 'flaky');
    const degraded = await until('Degraded', () => environment(db, id), (e) => e?.state === 'Degraded (ProxmoxUnreachable)');
    t.match(condition(degraded, 'Degraded')?.message, /could not reach node pve2 .*595/);
    const ready = await until('Ready after the retries', () => environment(db, id), (e) => e?.state === 'Ready');
    t.equal(condition(ready, 'Ready')?.reason, 'Recovered', 'it says it recovered');
    const clones = fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/9001/clone') && r.status === 595);
    t.equal(clones.length, 4, 'retried until the node answered');
  });

  await t.test('a guest that never reports an address: Degraded (GuestNoAddress), retried', async (t) => {
    const agent = await startAgent(t, db, cp, fake, { pool: 'no-ip', dir, guest: { kind: 'qemu', templates: { pve2: 9100 }, full: false, user: 'wharf' }, addressTimeoutMs: 300 });
    const id = await deployTo(db, cp, 'noip', 'no-ip');
    const e = await until('Degraded', () => environment(db, id), (e) => e?.state === 'Degraded (GuestNoAddress)');
    t.match(condition(e, 'Degraded')?.message, /reported no IPv4 address within 0 s .*qemu-guest-agent/);
    await until('retried', () => environment(db, id), (e) => (e?.failure_count ?? 0) >= 2);
    const view = await until("the agent's view", () => readView(agent.stateDir), (v) => v?.environments[0]?.state === 'Failed');
    t.match(view?.environments[0], { state: 'Failed', reason: 'GuestNoAddress', guest: { kind: 'qemu', node: 'pve2' } });
    const vms = [...fake.state.guests.values()].filter((g) => g.config.name === 'production-noip');
    t.equal(vms.length, 1, 'the guest it made is kept and reused by the retries, not cloned again');
  });

  await t.test("a changed host key: Stalled (HostKeyChanged); the guest is not destroyed", async (t) => {
    await startAgent(t, db, cp, fake, { pool: 'mitm', dir });
    const id = await deployTo(db, cp, 'mitm', 'mitm');
    await until('Ready', () => environment(db, id), (e) => e?.state === 'Ready');
    const vm = [...fake.state.guests.values()].find((g) => g.config.name === 'production-mitm')!;
    await fake.replaceHostKey(vm.vmid);
    await fake.rebootSshd(vm.vmid);
    // A new commit: the agent must connect again, and meets a different host key.
    const e0 = (await environment(db, id))!;
    await db.pool.transaction((tx) =>
      desiredState.writeDesired(tx, {
        tenantId: cp.tenantId,
        repositoryId: cp.repositoryId,
        app: 'mitm',
        name: 'production',
        kind: 'production',
        branch: null,
        prNumber: null,
        target: 'agent:mitm',
        driftMode: 'correct',
        versionId: null,
        digest: 'sha256:v2',
        spec: spec('mitm', 'production', 'v2'),
        conditions: e0.conditions,
      }),
    );
    const e = await until('Stalled', () => environment(db, id), (e) => e?.state === 'Stalled (HostKeyChanged)');
    t.match(condition(e, 'Stalled')?.message, /SSH host key of 127\.\d+\.\d+\.\d+:22 changed: pinned SHA256:\S+, presented SHA256:\S+/);
    t.ok(fake.state.guests.has(vm.vmid), 'the guest is still there');
    t.match(e?.url, /^http:\/\/127\./, 'and its URL is kept');
  });

  await t.test('a wrong credential: the agent says it is refused and tears nothing down', async (t) => {
    const agent = await startAgent(t, db, cp, fake, { pool: 'wrong', dir, credential: `wharf_agent_${'x'.repeat(43)}` });
    const view = await until('refused', () => readView(agent.stateDir), (v) => v?.controlPlane.state === 'refused');
    t.match(view?.controlPlane.lastError, /refused the agent \(401 unauthorized\)/);
  });

  t.same(foreign(), ['not-ours', 'someone-else'], 'guests the agents did not create are untouched');
  t.same(fake.problems, []);
  const n = await db.pool.oneFirst(sql.unsafe`SELECT count(*) FROM environment_history WHERE result = 'succeeded'`);
  t.ok(Number(n) >= 3);
});
