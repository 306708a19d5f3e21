/** Local state survives restarts and crashes mid-write; units and scripts are what a guest gets. */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { renderRunScript, releaseId, runtimeId } from '../src/deploy/deploy-release.js';
import { guestLayout, slotPorts } from '../src/deploy/guest-layout.js';
import { renderSystemdUnit } from '../src/deploy/systemd-service.js';
import { assertSafeRelative } from '../src/deploy/upload-atomic.js';
import { guestName } from '../src/proxmox/guest-identity.js';
import { openStateStore } from '../src/state/agent-state.js';

t.test('state is written atomically and read back by a new store', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-agent-state-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'nested', 'state.json');
  const store = await openStateStore(file);
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      store.update((s) => {
        s.environments[`e${i}`] = { app: 'a', env: `e${i}` };
      }),
    ),
  );
  t.equal(Object.keys(store.read().environments).length, 20, 'concurrent updates are serialized, none lost');
  t.same(await readdir(path.dirname(file)), ['state.json'], 'no temp files left behind');
  const reopened = await openStateStore(file);
  t.equal(Object.keys(reopened.read().environments).length, 20, 'a restarted agent sees everything');
  await writeFile(file, '{"version": 2}');
  await t.rejects(openStateStore(file), /not an agent state file of version 1/, 'a foreign file is refused, not overwritten');
  t.equal(await readFile(file, 'utf8'), '{"version": 2}');
});

t.test('what lands on a guest', async (t) => {
  const layout = guestLayout('/home/wharf', '0123456789ab');
  const release = { digest: 'sha256:abc', bundle: Buffer.from('x'), configs: [{ name: 'workflow.yaml', content: 'a' }], env: { GREETING: "it's" } };
  const id = releaseId(release);
  t.match(id, /^[0-9a-f]{16}$/);
  t.not(releaseId({ ...release, configs: [{ name: 'workflow.yaml', content: 'b' }] }), id, 'a config change is a new release');
  t.equal(
    renderRunScript(layout, id, release, 10123, 'node'),
    `#!/bin/sh\n# release ${id}\nexport GREETING='it'\\''s'\nexec 'node' --max-old-space-size=256 '/home/wharf/wharf/runtimes/${runtimeId(release)}/runtime.mjs' '--config' '/home/wharf/wharf/0123456789ab/releases/${id}/config/workflow.yaml' '--config-root' '/home/wharf/wharf/0123456789ab/releases/${id}/config' '--port' '10123' '--host' '127.0.0.1' '--data-dir' '/home/wharf/wharf/0123456789ab/data' '--digest' 'sha256:abc'\n`,
  );
  t.not(runtimeId({ bundle: Buffer.from('y') }), runtimeId(release), 'another runtime is another directory');
  t.equal(releaseId({ ...release, support: [] }), id, 'no support files: the same release');
  const unit = renderSystemdUnit({ name: 'wharf-0123456789ab-a', description: 'Wharf hello-api/production (a)\nExecStart=/bin/evil', dir: layout.slot('a'), writableDir: layout.base, user: 'wharf' });
  t.match(unit, /^\[Unit\]\nDescription=Wharf hello-api\/production \(a\) ExecStart=\/bin\/evil\n/, 'a newline cannot inject a directive');
  t.match(unit, /\nUser=wharf\n/);
  t.match(unit, /\nExecStart=\/bin\/sh \/home\/wharf\/wharf\/0123456789ab\/slots\/a\/run\.sh\n/);
  t.match(unit, /\nRestart=on-failure\n/);
  t.match(unit, /\nStandardOutput=append:\/home\/wharf\/wharf\/0123456789ab\/slots\/a\/runtime\.log\n/);
  t.match(unit, /\nProtectSystem=strict\n[\s\S]*\nReadWritePaths=\/home\/wharf\/wharf\/0123456789ab\n/);
  t.match(unit, /\[Install\]\nWantedBy=multi-user\.target\n$/);
  const ports = slotPorts('0123456789ab');
  t.ok(ports.a >= 10_000 && ports.b <= 29_999 && ports.b === ports.a + 1, 'slot ports below the ephemeral range');
  for (const p of ['../x', '/etc/passwd', 'a/../../b', '', 'a//b']) t.throws(() => assertSafeRelative(p), `refuses ${JSON.stringify(p)}`);
  t.throws(() => guestLayout('/home/x', '../../etc'), /12 hex digits/);
  t.equal(guestName({ app: 'Hello_API', env: 'feature/x' }), 'feature-x-hello-api');
});
