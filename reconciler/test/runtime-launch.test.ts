import { loadSettings, type TargetEnvironment } from '@wharf/contracts';
import t from 'tap';
import { StalledError } from '../src/errors.js';
import { localTargetSettings, targetsFromSettings } from '../src/settings.js';
import { launchCommand, runtimeArgs, runtimeEnv } from '../src/targets/local/runtime-launch.js';
import { specFor } from './helpers.js';

const env = (vars: Record<string, string>): TargetEnvironment => ({
  id: 1,
  tenantId: 1,
  repositoryId: 1,
  app: 'shop',
  name: 'pr-1',
  qualifier: null,
  kind: 'preview',
  generation: 1,
  digest: 'sha256:v1',
  spec: specFor('shop', 'pr-1', 'v1', { env: Object.entries(vars).map(([name, value]) => ({ name, value })) }),
});

t.test('the memory limit reaches every runtime command', async (t) => {
  const builtIn = await launchCommand(undefined, 128);
  t.equal(builtIn.argv[0], process.execPath);
  t.ok(builtIn.argv.includes('--max-old-space-size=128'), 'the reference runtime');
  t.same(await launchCommand(['/usr/bin/node', '--max-old-space-size=4096', 'engine.js'], 200), { argv: ['/usr/bin/node', '--max-old-space-size=200', 'engine.js'], env: {} }, 'a node command: the setting replaces its own flag');
  t.same(await launchCommand(['workflow-server', '-v'], 300), { argv: ['workflow-server', '-v'], env: { GOMEMLIMIT: '300MiB', NODE_OPTIONS: '--max-old-space-size=300' } }, 'any other program: soft limits in its environment');
});

t.test('what a runtime is handed: loopback, its config root, only the allowed hosts', async (t) => {
  const args = runtimeArgs({ configs: ['/s/c/app.yaml'], configDir: '/s/c', port: 4000, dataDir: '/s/data', digest: 'sha256:x', allowHosts: ['db.internal:5432'] });
  t.same(args, ['--config', '/s/c/app.yaml', '--config-root', '/s/c', '--host', '127.0.0.1', '--port', '4000', '--data-dir', '/s/data', '--digest', 'sha256:x', '--allow-host', 'db.internal:5432']);
  t.notOk(runtimeArgs({ configs: [], configDir: '/c', port: 1, dataDir: '/d', digest: 'x', allowHosts: [] }).includes('--allow-host'), 'none unless a setting gives some');
});

t.test('an app may not set variables that change how its runtime starts', async (t) => {
  const vars = runtimeEnv(env({ CURRENCY: 'EUR', NODE_ENV: 'production' }), 4000, { launchEnv: { GOMEMLIMIT: '256MiB' } });
  t.match(vars, { CURRENCY: 'EUR', NODE_ENV: 'production', GOMEMLIMIT: '256MiB', PORT: '4000', WHARF_APP: 'shop', PATH: '/usr/local/bin:/usr/bin:/bin' });
  for (const name of ['NODE_OPTIONS', 'LD_PRELOAD', 'PATH', 'BASH_ENV', 'GOMEMLIMIT', 'node_options', 'WHARF_DATA_DIR', 'JAVA_TOOL_OPTIONS', 'PYTHONSTARTUP']) {
    const err = (() => {
      try {
        runtimeEnv(env({ [name]: '--import=data:text/javascript,process.exit(9)' }), 4000, { launchEnv: {} });
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    t.ok(err instanceof StalledError, `${name} is refused`);
    t.match(err, { reason: 'Forbidden', message: new RegExp(`env var ${name} is reserved: it would change how the runtime process starts`) });
  }
});

t.test('allowed hosts come from the setting only, and never all of this machine', async (t) => {
  const load = (value: string) => loadSettings(localTargetSettings, { WHARF_RUNTIME_ALLOW_HOSTS: value });
  t.same(targetsFromSettings(load('db.internal:5432, 127.0.0.1:5433'), '/d').local?.allowHosts, ['db.internal:5432', '127.0.0.1:5433']);
  t.same(targetsFromSettings(loadSettings(localTargetSettings, {}), '/d').local?.allowHosts, [], 'none by default');
  for (const bad of ['127.0.0.1', 'localhost', '[::1]', 'db.internal,127.0.0.2']) {
    t.throws(() => load(bad), /WHARF_RUNTIME_ALLOW_HOSTS allows every port of .* \(this machine\): name the port/, `${bad} refused`);
  }
  t.throws(() => load('http://db.internal/'), /WHARF_RUNTIME_ALLOW_HOSTS has an entry that is not host or host:port/);
});
