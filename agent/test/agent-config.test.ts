/** agent.yaml: every problem at file:line:column at once; plain http only to loopback; the token removed after registration. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { AgentConfigError, loadAgentConfig, removeRegistrationToken } from '../src/config/agent-config.js';

const good = `# lab agent
name: lab-1
controlPlane:
  url: https://wharf.example.com
  registrationToken: wharf_reg_abcdefghijklmnopqrstuvwxyz012345
proxmox:
  url: https://pve1.example:8006
  tokenId: wharf@pve!agent
  tokenSecret: s3cret
  fingerprint: "${'AB:'.repeat(31)}AB"
guest:
  kind: qemu
  templates: { pve1: 9000 }
  user: wharf
`;

t.test('a good config resolves paths and defaults', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-agent-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'agent.yaml');
  await writeFile(file, good);
  const c = await loadAgentConfig(file);
  t.match(c, { name: 'lab-1', stateDir: path.join(dir, 'wharf-agent-state'), controlPlaneUrl: 'https://wharf.example.com', appPort: 8080, concurrency: 4, sshKeyFile: path.join(dir, 'wharf-agent-state', 'id_ed25519') });
  t.equal(c.registrationToken, 'wharf_reg_abcdefghijklmnopqrstuvwxyz012345');
  t.equal(await removeRegistrationToken(file), true);
  const after = await readFile(file, 'utf8');
  t.notMatch(after, /registrationToken|wharf_reg_/);
  t.match(after, /^# lab agent\nname: lab-1\n/, 'comments and layout are kept');
  t.equal((await loadAgentConfig(file)).registrationToken, undefined);
  t.equal(await removeRegistrationToken(file), false, 'nothing to remove the second time');
});

t.test('every problem at once, each at its line and column', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-agent-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'agent.yaml');
  await writeFile(file, good.replace('  user: wharf', '  user: "Root!"').replace('proxmox:\n  url: https://pve1.example:8006', 'proxmox:\n  url: http://pve1.example:8006\n  colour: blue'));
  const err = (await loadAgentConfig(file).catch((e: unknown) => e)) as AgentConfigError;
  t.type(err, AgentConfigError);
  t.match(err.problems, [
    new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:8:3: /proxmox must NOT have additional properties \\(colour\\)`),
    /agent\.yaml:7:8: \/proxmox\/url must match pattern/,
    /agent\.yaml:15:9: \/guest\/user must match pattern/,
  ]);
  t.equal(err.problems.length, 3);

  await writeFile(file, good.replace('https://wharf.example.com', 'http://wharf.example.com'));
  await t.rejects(loadAgentConfig(file), /controlPlane\.url must be https:\/\/ \(plain http is allowed only to a loopback address\)/);
  await writeFile(file, good.replace('https://wharf.example.com', 'http://127.0.0.1:4600'));
  t.equal((await loadAgentConfig(file)).controlPlaneUrl, 'http://127.0.0.1:4600');
  await writeFile(file, 'name: [unclosed\n');
  await t.rejects(loadAgentConfig(file), /agent\.yaml:\d+:\d+: /);
  await writeFile(file, good.replace('  tokenSecret: s3cret\n', ''));
  await t.rejects(loadAgentConfig(file), /set exactly one of tokenSecret and tokenSecretFile/);
});
