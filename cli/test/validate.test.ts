/** `wharf validate`: what a user sees for a repository, single files, each output format and bad usage. */
import t from 'tap';
import { runValidate, toAnnotation } from '../src/commands/validate.js';

const SERVER = `modules:
  - name: server
    type: http.server
    config:
      address: ":8080"
  - name: router
    type: http.router
    dependsOn: [server]
`;

async function run(cwd: string, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runValidate(argv, { cwd, stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

t.test('a repository with a manifest: every app, findings across files, eslint-style lines', async (t) => {
  const dir = t.testdir({
    'wharf.yaml': 'apps:\n  - name: shop\n    files: ["shop/*.yaml"]\n  - name: admin\n    files: [admin.yaml]\n',
    shop: {
      'base.yaml': SERVER,
      'routes.yaml': 'workflows:\n  http:\n    router: routr\n    server: server\n    routes: []\n',
    },
    'admin.yaml': 'modules:\n  - name: admin-server\n    type: http.server\n    config:\n      adress: ":9090"\n',
    'README.md': '# not YAML',
  });
  const { code, stdout, stderr } = await run(dir);
  t.equal(code, 1, 'errors: exit 1');
  t.equal(stderr, '');
  t.match(stdout, /^shop\/routes\.yaml:3:13 {2}error {2}workflows\.http \(router:\) names module "routr".*Did you mean "router"\? {2}WHARF134$/m);
  t.match(stdout, /^admin\.yaml:5:7 {2}warning {2}Unknown key "adress".*Did you mean "address"\? {2}WHARF113$/m);
  t.match(stdout, /\n\n✖ 2 problems \(1 error, 1 warning\) in 2 of 4 files\.\n$/);
});

t.test('no manifest: the root workflow.yaml is the app', async (t) => {
  const dir = t.testdir({ 'workflow.yaml': SERVER });
  const { code, stdout } = await run(dir);
  t.equal(code, 0);
  t.equal(stdout, 'No problems in 1 file.\n');
  t.equal((await run(dir, 'wharf.yaml')).code, 2, 'a manifest that does not exist is a usage error');
});

t.test('warnings alone exit 0', async (t) => {
  const dir = t.testdir({ 'app.yaml': 'modules:\n  - name: pay\n    type: payments.stripe\n' });
  const { code, stdout } = await run(dir, '.');
  t.equal(code, 0);
  t.match(stdout, /app\.yaml:3:11 {2}warning {2}"payments\.stripe" is not a built-in module type: provided by a plugin\?/);
  t.match(stdout, /⚠ 1 problem \(0 errors, 1 warning\) in 1 of 1 file\./);
});

t.test('nothing to validate in a directory', async (t) => {
  const dir = t.testdir({ 'notes.txt': 'hello' });
  const { code, stdout } = await run(dir);
  t.equal(code, 1);
  t.match(stdout, /WHARF143/);
});

t.test('a directory of YAML without a manifest: configs validated one by one, other YAML skipped with a note', async (t) => {
  const dir = t.testdir({
    '.github': { workflows: { 'ci.yml': 'on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n' } },
    k8s: { 'deploy.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n' },
    apps: {
      'good.yaml': SERVER,
      'broken.yaml': 'modules:\n  - name: db\n    type: storage.sqlite\n    config:\n      dbPath: /data/x.db\n',
    },
    'docker-compose.yml': 'services:\n  web:\n    image: nginx\n',
  });
  const { code, stdout } = await run(dir);
  t.equal(code, 1, 'the broken config is an error');
  t.match(stdout, /^apps\/broken\.yaml:5:15 {2}error {2}.*absolute path.* {2}WHARF160$/m);
  for (const skipped of ['.github/workflows/ci.yml', 'k8s/deploy.yaml', 'docker-compose.yml']) {
    t.match(stdout, new RegExp(`^${skipped.replace(/\./g, '\\.')}:1:1 {2}info {2}Skipped: .* {2}WHARF151$`, 'm'), `${skipped} skipped`);
  }
  t.notMatch(stdout, /apps\/good\.yaml/, 'the good config has nothing to say');
  t.match(stdout, /✖ 1 problem \(1 error, 0 warnings\) in 1 of 5 files\. 3 notes\.\n$/);
});

t.test('a root app.yaml that is not a Workflow config (another platform\'s) is skipped, not a broken app', async (t) => {
  const dir = t.testdir({ 'app.yaml': 'runtime: python312\nhandlers:\n  - url: /.*\n    script: auto\n' });
  const { code, stdout } = await run(dir);
  t.equal(code, 1, 'with nothing else to validate there is still no app');
  t.match(stdout, /^app\.yaml:1:1 {2}info {2}Skipped: .* {2}WHARF151$/m);
  t.match(stdout, /WHARF143/);
});

t.test('a manifest whose globs match nothing', async (t) => {
  const dir = t.testdir({ 'wharf.yaml': 'apps:\n  - name: shop\n    files: ["apps/shop/*.yaml"]\n' });
  const { code, stdout } = await run(dir, 'wharf.yaml');
  t.equal(code, 1);
  t.match(stdout, /^wharf\.yaml:1:1 {2}error {2}App "shop": no file in the repository matches "apps\/shop\/\*\.yaml".* {2}WHARF142$/m);
});

t.test('single files are validated on their own', async (t) => {
  const dir = t.testdir({
    'a.yaml': SERVER,
    'b.yaml': SERVER,
    'broken.yaml': 'modules:\n  - name: "x\n',
  });
  const both = await run(dir, 'a.yaml', 'b.yaml');
  t.equal(both.code, 0, 'the same module names in two independent files are fine');
  const broken = await run(dir, 'broken.yaml');
  t.equal(broken.code, 1);
  t.match(broken.stdout, /^broken\.yaml:2:11 {2}error {2}YAML syntax error/m);
});

t.test('--format json', async (t) => {
  const dir = t.testdir({ 'workflow.yaml': `${SERVER}  - name: again\n    type: http.router\n    dependsOn: [nope]\n` });
  const { code, stdout } = await run(dir, '--format', 'json');
  t.equal(code, 1);
  const out = JSON.parse(stdout);
  t.same(out.files, ['workflow.yaml']);
  t.equal(out.errors, 1);
  t.equal(out.warnings, 0);
  t.match(out.diagnostics, [
    { file: 'workflow.yaml', line: 11, column: 17, endLine: 11, endColumn: 21, severity: 'error', code: 'WHARF131', message: /"nope"/ },
  ]);
});

t.test('--format github: Checks API annotations', async (t) => {
  const dir = t.testdir({ 'workflow.yaml': SERVER.replace('dependsOn: [server]', 'dependsOn: [servr]') });
  const { code, stdout } = await run(dir, '-f', 'github');
  t.equal(code, 1);
  t.same(JSON.parse(stdout), [
    {
      path: 'workflow.yaml',
      start_line: 8,
      end_line: 8,
      start_column: 17,
      end_column: 22,
      annotation_level: 'failure',
      title: 'WHARF131',
      message: 'Module "router" depends on "servr", which is not a module of this app. Did you mean "server"?',
    },
  ]);
  const multiLine = toAnnotation({ file: 'a.yaml', line: 2, column: 3, endLine: 4, endColumn: 1, severity: 'warning', code: 'WHARF113', message: 'm.' });
  t.same(multiLine, { path: 'a.yaml', start_line: 2, end_line: 4, annotation_level: 'warning', title: 'WHARF113', message: 'm.' }, 'no columns across lines');
});

t.test('usage errors exit 2', async (t) => {
  const dir = t.testdir({ 'workflow.yaml': SERVER });
  const unknownFormat = await run(dir, '--format', 'xml');
  t.equal(unknownFormat.code, 2);
  t.match(unknownFormat.stderr, /unknown format 'xml'/);
  t.equal(unknownFormat.stdout, '');
  t.equal((await run(dir, '--frmat', 'json')).code, 2, 'unknown option');
  const missing = await run(dir, 'nope.yaml');
  t.equal(missing.code, 2);
  t.match(missing.stderr, /no such file or directory: nope\.yaml/);
  const help = await run(dir, '--help');
  t.equal(help.code, 0);
  t.match(help.stdout, /Usage: wharf validate/);
});
