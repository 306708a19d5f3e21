/** The agent's Proxmox client against the strict fake: the happy path and every error the "Bad input" lists. */
import t, { type Test } from 'tap';
import { AgentError } from '../src/errors.js';
import { encodeSshKeys } from '../src/proxmox/pve-client.js';
import { agentTag, environmentTag, guestTags } from '../src/proxmox/guest-identity.js';
import { agentKeys, clientFor, minimumAcl, OSTEMPLATE, startCluster, TOKEN_ID } from './helpers/fake-cluster.js';

const AGENT = 'agent-7f3e';
const ENV = { app: 'hello-api', env: 'production' };
const tags = guestTags(AGENT, ENV);

async function rejectsWith(t: Test, p: Promise<unknown>, reason: string, message: RegExp): Promise<AgentError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, AgentError, `fails with an AgentError (${reason})`);
  const e = err as AgentError;
  t.equal(e.reason, reason);
  t.match(e.message, message);
  return e;
}

t.test('a clone lands on the node with the most free memory, tagged, and starts a real guest with the cloud-init keys', async (t) => {
  const fake = await startCluster();
  t.teardown(() => fake.close());
  const pve = clientFor(fake);
  t.same(
    (await pve.nodesByFreeMemory()).map((n) => n.node),
    ['pve2', 'pve1'],
    'pve2 has 56 GiB free, pve1 12 GiB',
  );
  const keys = agentKeys();
  const g = await pve.cloneTemplate({ kind: 'qemu', template: 9001, name: 'production-hello-api', full: false, description: 'd', tags });
  t.equal(fake.state.guests.get(g.vmid)!.config.tags, tags.join(';'), 'the guest carries the identity tags');
  await pve.setCloudInit(g, AGENT, { user: 'wharf', sshKeys: [keys.public, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKey other@host'] });
  const stored = fake.state.guests.get(g.vmid)!.config.sshkeys!;
  t.equal(stored, encodeSshKeys([keys.public, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKey other@host']), 'sshkeys stored URL-encoded, as Proxmox keeps them');
  t.notMatch(stored, /[ +\n]/, 'no raw spaces, plus signs or newlines');
  await pve.start(g, AGENT);
  const ip = await pve.waitForAddress(g, 10_000);
  t.match(ip, /^127\.\d+\.\d+\.\d+$/, 'the guest agent reports the guest address');
  t.equal(fake.state.guests.get(g.vmid)!.status, 'running');
  const home = fake.state.guests.get(g.vmid)!.sshd!.home;
  t.match(home, /\/home\/wharf$/, 'cloud-init user wharf exists in the guest');
  t.same(fake.problems, [], 'the fake served every request');
  const clone = fake.requests.find((r) => r.path.endsWith('/clone'))!;
  t.equal(clone.params.full, '0', 'booleans go over the wire as 0/1');
  await pve.destroy(g, AGENT);
  t.notOk(fake.state.guests.has(g.vmid), 'destroyed');
});

t.test('a VMID taken between nextid and the clone is retried with a fresh id', async (t) => {
  const fake = await startCluster();
  t.teardown(() => fake.close());
  const pve = clientFor(fake);
  fake.loseVmidRace(2);
  const g = await pve.cloneTemplate({ kind: 'qemu', template: 9000, name: 'a', full: true, description: 'd', tags });
  t.equal(g.vmid, 102, 'ids 100 and 101 went to someone else');
  const clones = fake.requests.filter((r) => r.path.endsWith('/clone'));
  t.same(clones.map((r) => [r.status, r.reason]), [
    [500, 'unable to create VM 100: config file already exists'],
    [500, 'unable to create VM 101: config file already exists'],
    [200, 'OK'],
  ]);
  t.equal(fake.state.guests.get(100)!.config.name, 'someone-elses-vm', "the other client's guest is untouched");
  fake.loseVmidRace(10);
  await rejectsWith(t, clientFor(fake, {}, { vmidAttempts: 3 }).cloneTemplate({ kind: 'qemu', template: 9000, name: 'b', full: false, description: 'd', tags }), 'VmidTaken', /lost the VMID race 3 times/);
});

t.test('bad input ends in a precise, classified error', async (t) => {
  const fake = await startCluster();
  t.teardown(() => fake.close());
  const pve = clientFor(fake);

  const missing = await rejectsWith(t, pve.cloneTemplate({ kind: 'qemu', template: 9999, name: 'x', full: false, description: 'd', tags }), 'TemplateNotFound', /template 9999 does not exist/);
  t.equal(missing.retry, 'user-change');
  await rejectsWith(t, pve.createContainer({ node: 'pve1', ostemplate: 'local:vztmpl/nope.tar.zst', hostname: 'x', storage: 'local-lvm', sshKeys: [], description: 'd', tags }), 'TemplateNotFound', /nope\.tar\.zst is missing on pve1/);

  fake.state.node('pve1')!.storages.get('local-lvm')!.full = true;
  const full = await rejectsWith(t, pve.cloneTemplate({ kind: 'qemu', template: 9000, name: 'x', full: true, description: 'd', tags }), 'StorageFull', /storage is full .*insufficient free space/);
  t.equal(full.retry, 'user-change');
  t.notOk([...fake.state.guests.values()].some((g) => !g.template && g.node === 'pve1' && g.config.name === 'x'), 'the failed clone left no guest behind');

  fake.state.node('pve2')!.online = false;
  t.same((await pve.nodesByFreeMemory()).map((n) => n.node), ['pve1'], 'an offline node is not a candidate');
  fake.state.node('pve2')!.online = true;
  fake.failProxy('pve2', 595, 1);
  const unreachable = await rejectsWith(t, pve.template('qemu', 9001).then((tpl) => pve.http.call('GET', `/nodes/${tpl.node}/status`)), 'ProxmoxUnreachable', /could not reach node pve2 .*595/);
  t.equal(unreachable.retry, 'backoff');

  const g = await pve.cloneTemplate({ kind: 'qemu', template: 9100, name: 'silent', full: false, description: 'd', tags });
  await pve.start(g, AGENT);
  await rejectsWith(t, pve.waitForAddress(g, 200), 'GuestNoAddress', /reported no IPv4 address within 0 s \(No QEMU guest agent configured\).*qemu-guest-agent/);
  const g2 = await pve.cloneTemplate({ kind: 'qemu', template: 9001, name: 'mute', full: false, description: 'd', tags });
  fake.state.guests.get(g2.vmid)!.silent = true;
  await pve.start(g2, AGENT);
  await rejectsWith(t, pve.waitForAddress(g2, 200), 'GuestNoAddress', /QEMU guest agent is not running/);
  const g3 = await pve.cloneTemplate({ kind: 'qemu', template: 9001, name: 'liar', full: false, description: 'd', tags });
  await pve.start(g3, AGENT);
  fake.state.guests.get(g3.vmid)!.address = "10.0.0.1'; touch /tmp/pwned; '";
  await rejectsWith(t, pve.waitForAddress(g3, 200), 'GuestNoAddress', /reported no IPv4 address/);

  await rejectsWith(t, pve.http.call('POST', '/nodes/pve2/qemu/9001/clone', { newid: 50, full: 'yes' as unknown as boolean }), 'InvalidRequest', /Parameter verification failed\. full: type check \('boolean'\) failed - got 'yes'; newid: invalid format - value does not look like a valid VM ID/);
  t.same(fake.problems, []);
});

t.test('a 595 while polling a task is ridden out; a task that fails reports its exitstatus', async (t) => {
  const fake = await startCluster({ taskPollsWhileRunning: 3 });
  t.teardown(() => fake.close());
  const pve = clientFor(fake);
  const g = await pve.cloneTemplate({ kind: 'qemu', template: 9001, name: 'a', full: false, description: 'd', tags });
  fake.failProxy('pve2', 596, 2, /\/tasks\//);
  await pve.start(g, AGENT);
  t.ok(fake.requests.some((r) => r.status === 596), 'two status polls failed with 596');
  t.equal(fake.state.guests.get(g.vmid)!.status, 'running', 'and the start still completed');
  await pve.stop(g, AGENT);
  const upid = await pve.http.call<string>('POST', `/nodes/pve2/qemu/${g.vmid}/status/shutdown`);
  const { waitForTask } = await import('../src/proxmox/pve-tasks.js');
  await rejectsWith(t, waitForTask(pve.http, upid, 'shutdown', { pollMs: 10 }), 'TaskFailed', new RegExp(`shutdown failed: VM ${g.vmid} not running \\(task UPID:pve2:`));
});

t.test('credentials: a wrong token is not retried in a tight loop, a pinned certificate is enforced, a missing privilege is named', async (t) => {
  const fake = await startCluster();
  t.teardown(() => fake.close());
  let clock = 1_000_000;
  const wrong = clientFor(fake, { tokenSecret: 'not-the-secret', now: () => clock, authCooldownMs: 60_000 });
  const auth = await rejectsWith(t, wrong.version(), 'ProxmoxAuthFailed', new RegExp(`rejected the API token ${TOKEN_ID.replace('!', '!')} \\(401 invalid token value!\\)`));
  t.notMatch(auth.message, /not-the-secret/, 'the secret is never in a message');
  const before = fake.requests.length;
  await rejectsWith(t, wrong.version(), 'ProxmoxAuthFailed', /401/);
  t.equal(fake.requests.length, before, 'the second call inside the cooldown never reached Proxmox');
  clock += 61_000;
  await rejectsWith(t, wrong.version(), 'ProxmoxAuthFailed', /401/);
  t.equal(fake.requests.length, before + 1, 'after the cooldown it asks again');
  t.equal(fake.requests.at(-1)!.reason, 'invalid token value!', 'the reason is in the status line');

  const pinnedWrong = clientFor(fake, { fingerprint256: 'AA:'.repeat(31) + 'AA' });
  const n = fake.requests.length;
  await rejectsWith(t, pinnedWrong.version(), 'ProxmoxCertificateMismatch', /not the pinned AA:AA.*refusing to send the API token/);
  t.equal(fake.requests.length, n, 'no request (and so no token) reached the server');

  const acl = minimumAcl().map((e) => (e.path === '/vms' ? { ...e, privileges: e.privileges.filter((p) => p !== 'VM.Clone') } : e));
  const weak = await startCluster({ tokens: [{ id: TOKEN_ID, secret: '6f1c8d1e-2b7a-4d0e-9a55-5c1c0e0d7f42', acl }] });
  t.teardown(() => weak.close());
  await rejectsWith(t, clientFor(weak).cloneTemplate({ kind: 'qemu', template: 9000, name: 'x', full: false, description: 'd', tags }), 'PermissionDenied', /lacks a privilege for POST \/nodes\/pve1\/qemu\/9000\/clone: Permission check failed \(\/vms\/9000, VM\.Clone\)/);
});

t.test('the agent never touches a guest without its tags', async (t) => {
  const fake = await startCluster();
  t.teardown(() => fake.close());
  const pve = clientFor(fake);
  const foreign = await pve.cloneTemplate({ kind: 'qemu', template: 9001, name: 'someone-else', full: false, description: 'd', tags: ['prod', 'db'] });
  const other = await pve.cloneTemplate({ kind: 'qemu', template: 9001, name: 'other-agent', full: false, description: 'd', tags: guestTags('another-agent', ENV) });
  for (const g of [foreign, other]) {
    await rejectsWith(t, pve.destroy(g, AGENT), 'NotOwned', new RegExp(`VM ${g.vmid} on pve2 does not carry this agent's tags`));
    await rejectsWith(t, pve.start(g, AGENT), 'NotOwned', /never changes a guest it did not create/);
  }
  t.ok(fake.state.guests.has(foreign.vmid) && fake.state.guests.has(other.vmid), 'both still there');
  const mine = await pve.cloneTemplate({ kind: 'qemu', template: 9001, name: 'mine', full: false, description: 'd', tags });
  const owned = await pve.ownedGuests(AGENT);
  t.same([...owned.keys()], [environmentTag(ENV).slice('wharf-e-'.length)]);
  t.same(owned.get(environmentTag(ENV).slice('wharf-e-'.length))!.map((g) => g.vmid), [mine.vmid], 'only its own guest is listed');
  t.ok(agentTag(AGENT).startsWith('wharf-a-'));
});

t.test('containers: created from an OS template with the SSH key, started, addressed', async (t) => {
  const fake = await startCluster();
  t.teardown(() => fake.close());
  const pve = clientFor(fake);
  const keys = agentKeys();
  const ct = await pve.createContainer({ node: 'pve1', ostemplate: OSTEMPLATE, hostname: 'production-hello-api', storage: 'local-lvm', sshKeys: [keys.public], description: 'd', tags });
  t.equal(ct.kind, 'lxc');
  await pve.start(ct, AGENT);
  t.match(await pve.waitForAddress(ct, 10_000), /^127\./);
  t.match(fake.state.guests.get(ct.vmid)!.sshd!.home, /\/home\/root$/, "the container's root (an unprivileged uid on the host)");
  fake.state.node('pve1')!.storages.get('local-lvm')!.full = true;
  await rejectsWith(t, pve.createContainer({ node: 'pve1', ostemplate: OSTEMPLATE, hostname: 'x', storage: 'local-lvm', sshKeys: [], description: 'd', tags }), 'StorageFull', /unable to create CT \d+ - lvcreate/);
  await pve.destroy(ct, AGENT);
  t.notOk(fake.state.guests.has(ct.vmid));
});
