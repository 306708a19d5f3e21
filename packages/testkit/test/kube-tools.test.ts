import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ensureKubeTools, runTool } from '../src/kube-tools.js';

t.test('the real kubectl and helm come out of the npm package, at the versions its Dockerfile names', async (t) => {
  const tools = await ensureKubeTools();
  t.equal(tools.kubectlVersion, '1.31.9');
  t.equal(tools.helmVersion, '3.17.3');
  t.notOk(tools.kubectl.startsWith('/usr/'), 'not a binary of the machine');

  const kubectl = await runTool(tools.kubectl, ['version', '--client', '-o', 'json'], { HOME: tools.dir });
  t.equal(kubectl.code, 0, kubectl.stderr);
  const version = JSON.parse(kubectl.stdout) as { clientVersion: { gitVersion: string; platform: string } };
  t.equal(version.clientVersion.gitVersion, `v${tools.kubectlVersion}`);
  t.equal(version.clientVersion.platform, 'linux/amd64');

  const helm = await runTool(tools.helm, ['version', '--short'], { HOME: tools.dir, HELM_CACHE_HOME: path.join(tools.dir, '.helm') });
  t.equal(helm.code, 0, helm.stderr);
  t.match(helm.stdout, new RegExp(`^v${tools.helmVersion.replace(/\./g, '\\.')}\\+g[0-9a-f]+`));
});

t.test('extraction into a fresh cache is safe when test files start at once, and is reused afterwards', async (t) => {
  const cacheDir = await mkdtemp(path.join(tmpdir(), 'wharf-kube-tools-'));
  t.teardown(() => rm(cacheDir, { recursive: true, force: true }));
  const [a, b] = await Promise.all([ensureKubeTools({ cacheDir }), ensureKubeTools({ cacheDir })]);
  t.equal(a.kubectl, b.kubectl);
  const first = await stat(a.kubectl);
  t.equal(first.mode & 0o111, 0o111, 'executable');
  const again = await ensureKubeTools({ cacheDir });
  t.equal((await stat(again.kubectl)).mtimeMs, first.mtimeMs, 'not extracted a second time');
  const run = await runTool(again.kubectl, ['version', '--client'], { HOME: cacheDir });
  t.equal(run.code, 0, run.stderr);
});
