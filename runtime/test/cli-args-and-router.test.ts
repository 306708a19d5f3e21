import t from 'tap';
import { parseRuntimeArgs } from '../src/cli-args.js';
import { DEFAULT_LIMITS } from '../src/limits.js';
import { createRouter } from '../src/http/router.js';

t.test('flags win over environment variables', async (t) => {
  const env = { PORT: '9000', WHARF_DIGEST: 'from-env', WHARF_DATA_DIR: '/env/data' };
  const a = parseRuntimeArgs(['--config', 'a.yaml', '--config', 'b.yaml,c.yaml', '--port', '0', '--digest', 'sha256:1'], env);
  t.same(a.configFiles, ['a.yaml', 'b.yaml', 'c.yaml']);
  t.equal(a.port, 0, '--port 0 asks for a free port');
  t.equal(a.digest, 'sha256:1');
  t.equal(a.dataDir, null, 'WHARF_DATA_DIR in the environment does not choose where the runtime writes (it is Wharf\'s own setting)');
  const b = parseRuntimeArgs(['--config', 'a.yaml'], env);
  t.equal(b.port, 9000, 'PORT is the fallback');
  t.equal(b.digest, 'from-env', 'WHARF_DIGEST is the fallback');
  t.equal(parseRuntimeArgs(['--config', 'a.yaml'], {}).port, undefined, 'no port: the http.server address decides');
  t.throws(() => parseRuntimeArgs([], {}), /no --config given/);
  t.throws(() => parseRuntimeArgs(['--config', 'a.yaml', '--port', 'eighty'], {}), /bad port/);
});

t.test("what widens a runtime's reach is a flag, never an app's environment variable", async (t) => {
  const env = { HOST: '0.0.0.0', WHARF_ALLOW_HOSTS: 'evil.example', ALLOW_HOST: 'evil.example' };
  const a = parseRuntimeArgs(['--config', 'a.yaml'], env);
  t.equal(a.host, undefined, 'HOST in the environment does not choose the interface (the runtime binds 127.0.0.1)');
  t.same(a.allowHosts, [], 'no outbound host is allowed by default');
  t.same(a.limits, DEFAULT_LIMITS, 'the default limits');
  const b = parseRuntimeArgs(
    ['--config', 'a.yaml', '--host', '10.0.0.5', '--allow-host', 'db.internal:5432', '--allow-host', 'hooks.example,api.example:443', '--max-body-bytes', '2048', '--pipeline-timeout', '5s', '--stall-timeout', '0s', '--config-root', '/env/config'],
    {},
  );
  t.equal(b.host, '10.0.0.5', 'the target passes --host');
  t.same(b.allowHosts, ['db.internal:5432', 'hooks.example', 'api.example:443']);
  t.match(b.limits, { maxBodyBytes: 2048, pipelineTimeoutMs: 5000, stallTimeoutMs: 0 });
  t.equal(b.configRoot, '/env/config');
  t.throws(() => parseRuntimeArgs(['--config', 'a.yaml', '--max-body-bytes=0'], {}), /bad --max-body-bytes/);
  t.throws(() => parseRuntimeArgs(['--config', 'a.yaml', '--pipeline-timeout', 'forever'], {}), /bad --pipeline-timeout/);
  t.throws(() => parseRuntimeArgs(['--config', 'a.yaml', '--pipeline-timeout', '0s'], {}), /must be above zero/);
});

t.test('the route table', async (t) => {
  const r = createRouter();
  const h = (name: string) => () => ({ status: 200, body: name });
  r.add('GET', '/items/{id}', h('item'));
  r.add('GET', '/items/new', h('new'));
  r.add('GET', '/items/:id/tags/:tag', h('tag'));
  r.add('POST', '/items', h('create'));
  r.add('GET', '/ui/*', h('static'));
  t.same(r.find('GET', '/items/42')?.params, { id: '42' }, '{id} captures a segment');
  t.equal(r.find('GET', '/items/new')?.pattern, '/items/new', 'a static segment beats a parameter');
  t.same(r.find('GET', '/items/7/tags/red%20hot')?.params, { id: '7', tag: 'red hot' }, ':param works and is decoded');
  t.equal(r.find('GET', '/items/42/')?.pattern, '/items/{id}', 'a trailing slash is ignored');
  t.equal(r.find('HEAD', '/items/42')?.pattern, '/items/{id}', 'HEAD uses the GET route');
  t.equal(r.find('GET', '/items'), null, 'methods are distinct');
  t.same(r.find('GET', '/ui/a/b.css')?.params, { '*': 'a/b.css' }, 'a trailing * matches the rest');
  t.throws(() => r.add('GET', '/items/:other', h('dup')), /declared twice/, 'the same shape twice is refused');
});
