/**
 * Hostile configs: paths that leave the app's files (absolute, `..`, encoded, Windows-style, home, file:
 * URLs, SQLite DSNs), SQL that opens other databases or native code, and hosts on the machine Wharf runs
 * on or its private network. Each is an error at its file:line:column before anything runs; the benign
 * twin of each is not.
 */
import t from 'tap';
import { type Diagnostic, validateWorkflowFiles } from '../src/index.js';

interface Case {
  name: string;
  yaml: string;
  code: string;
  line: number;
  column: number;
}

const module = (type: string, config: string) => `modules:\n  - name: m\n    type: ${type}\n    config:\n${config}`;
const step = (type: string, config: string) => `pipelines:\n  p:\n    steps:\n      - name: s\n        type: ${type}\n        config:\n${config}`;

const HOSTILE: Case[] = [
  { name: 'reverseproxy backend on the loopback', yaml: module('reverseproxy', '      backend_services:\n        admin: "http://127.0.0.1:4600"\n'), code: 'WHARF162', line: 6, column: 16 },
  { name: 'reverseproxy backend at the cloud metadata address', yaml: module('reverseproxy', '      backend_services:\n        meta: "http://169.254.169.254/latest"\n'), code: 'WHARF162', line: 6, column: 15 },
  { name: 'static root climbing out with ..', yaml: module('static.fileserver', '      root: ../../../../..\n'), code: 'WHARF160', line: 5, column: 13 },
  { name: 'static root at the host root', yaml: module('static.fileserver', '      root: /\n'), code: 'WHARF160', line: 5, column: 13 },
  { name: 'static root reading Wharf\'s own state', yaml: module('static.fileserver', '      root: ../.wharf\n'), code: 'WHARF160', line: 5, column: 13 },
  { name: 'sqlite dbPath absolute', yaml: module('storage.sqlite', '      dbPath: /data/x.db\n'), code: 'WHARF160', line: 5, column: 15 },
  { name: 'sqlite dbPath with .. inside', yaml: module('storage.sqlite', '      dbPath: data/../../x.db\n'), code: 'WHARF160', line: 5, column: 15 },
  { name: 'dbPath percent-encoded ..', yaml: module('storage.sqlite', '      dbPath: "%2e%2e/%2e%2e/x.db"\n'), code: 'WHARF160', line: 5, column: 15 },
  { name: 'dbPath double-encoded ..', yaml: module('storage.sqlite', '      dbPath: "%252e%252e%252fx.db"\n'), code: 'WHARF160', line: 5, column: 15 },
  { name: 'dbPath encoded slash after ..', yaml: module('storage.sqlite', '      dbPath: "..%2fx.db"\n'), code: 'WHARF160', line: 5, column: 15 },
  { name: 'dbPath with backslashes', yaml: module('storage.sqlite', '      dbPath: "..\\\\..\\\\x.db"\n'), code: 'WHARF160', line: 5, column: 15 },
  { name: 'dbPath as a drive path', yaml: module('storage.sqlite', '      dbPath: "C:\\\\x.db"\n'), code: 'WHARF160', line: 5, column: 15 },
  { name: 'dbPath in a home directory', yaml: module('storage.sqlite', '      dbPath: ~/x.db\n'), code: 'WHARF160', line: 5, column: 15 },
  { name: 'dbPath with a NUL byte', yaml: module('storage.sqlite', '      dbPath: "x.db\\0../../y"\n'), code: 'WHARF160', line: 5, column: 15 },
  { name: 'jwt seedFile absolute', yaml: module('auth.jwt', '      secret: s\n      seedFile: /etc/passwd\n'), code: 'WHARF160', line: 6, column: 17 },
  { name: 'api.handler seedFile escaping', yaml: module('api.handler', '      seedFile: ../../seed.json\n'), code: 'WHARF160', line: 5, column: 17 },
  { name: 'storage.local rootDir absolute', yaml: module('storage.local', '      rootDir: /var/lib\n'), code: 'WHARF160', line: 5, column: 16 },
  { name: 'sqlite DSN as a file: URL', yaml: module('database.workflow', '      driver: sqlite\n      dsn: "file:/etc/x.db?mode=ro"\n'), code: 'WHARF160', line: 6, column: 12 },
  { name: 'sqlite DSN climbing out', yaml: module('database.workflow', '      driver: sqlite3\n      dsn: ../../x.db\n'), code: 'WHARF160', line: 6, column: 12 },
  { name: 'static_file step reading a host file', yaml: step('step.static_file', '          file: /etc/shadow\n          content_type: text/plain\n'), code: 'WHARF160', line: 7, column: 17 },
  { name: 'path with a template after an escape', yaml: module('static.fileserver', '      root: "../{{ .dir }}"\n'), code: 'WHARF160', line: 5, column: 13 },
  { name: 'openapi spec file (a catalogue filepath field) absolute', yaml: module('openapi', '      spec_file: /etc/spec.yaml\n'), code: 'WHARF160', line: 5, column: 18 },
  { name: 'ATTACH DATABASE', yaml: step('step.db_exec', '          database: db\n          query: "ATTACH DATABASE \'/x.db\' AS x"\n'), code: 'WHARF161', line: 8, column: 18 },
  { name: 'ATTACH without DATABASE, lower case', yaml: step('step.db_exec', '          database: db\n          query: "attach \'/x.db\' as x"\n'), code: 'WHARF161', line: 8, column: 18 },
  { name: 'ATTACH hidden by a comment', yaml: step('step.db_query', '          database: db\n          query: "SELECT 1; ATTACH/**/\'/x.db\' AS x"\n'), code: 'WHARF161', line: 8, column: 18 },
  { name: 'VACUUM INTO', yaml: step('step.db_exec', '          database: db\n          query: "VACUUM INTO \'/tmp/copy.db\'"\n'), code: 'WHARF161', line: 8, column: 18 },
  { name: 'load_extension', yaml: step('step.db_query', '          database: db\n          query: "SELECT load_extension(\'/tmp/evil.so\')"\n'), code: 'WHARF161', line: 8, column: 18 },
  { name: 'postgres DSN to localhost', yaml: module('database.workflow', '      driver: postgres\n      dsn: postgres://u:p@localhost:5432/wharf\n'), code: 'WHARF162', line: 6, column: 12 },
  { name: 'postgres key=value DSN to loopback', yaml: module('database.workflow', '      driver: postgres\n      dsn: "host=127.0.0.1 port=5432 dbname=wharf"\n'), code: 'WHARF162', line: 6, column: 12 },
  { name: 'http_call to the cloud metadata service', yaml: step('step.http_call', '          url: http://169.254.169.254/latest/meta-data/\n'), code: 'WHARF162', line: 7, column: 16 },
  { name: 'http_call to Wharf\'s API by a decimal IP', yaml: step('step.http_call', '          url: http://2130706433:4600/api\n'), code: 'WHARF162', line: 7, column: 16 },
  { name: 'http_call to a private address', yaml: step('step.http_call', '          url: "http://10.0.0.7/{{ .path }}"\n'), code: 'WHARF162', line: 7, column: 16 },
  { name: 'http_call to IPv6 loopback', yaml: step('step.http_call', '          url: "http://[::1]:4601/"\n'), code: 'WHARF162', line: 7, column: 16 },
  { name: 'redis on this machine', yaml: module('cache.redis', '      address: localhost:6379\n'), code: 'WHARF162', line: 5, column: 16 },
  { name: 'kafka broker list with a loopback broker', yaml: module('messaging.kafka', '      brokers: [kafka.example.com:9092, 127.0.0.1:9092]\n'), code: 'WHARF162', line: 5, column: 41 },
  { name: 'slack webhook to a private host', yaml: module('notification.slack', '      webhookURL: http://192.168.1.10/hook\n'), code: 'WHARF162', line: 5, column: 19 },
];

const BENIGN: { name: string; yaml: string }[] = [
  { name: 'static root inside the app', yaml: module('static.fileserver', '      root: ./public\n') },
  { name: 'dbPath relative', yaml: module('storage.sqlite', '      dbPath: data/app.db\n') },
  { name: '.. that stays inside', yaml: module('storage.sqlite', '      dbPath: data/../app.db\n') },
  { name: 'in-memory sqlite DSN', yaml: module('database.workflow', '      driver: sqlite\n      dsn: ":memory:"\n') },
  { name: 'a path decided at run time', yaml: module('static.fileserver', '      root: "{{ .dir }}"\n') },
  { name: 'plain SQL mentioning attachments', yaml: step('step.db_query', '          database: db\n          query: SELECT * FROM attachments\n') },
  { name: 'a host decided at run time', yaml: step('step.http_call', '          url: "http://{{ .host }}/x"\n') },
];

const errorsOf = (yaml: string, options = {}): Diagnostic[] =>
  validateWorkflowFiles([{ path: 'workflow.yaml', content: yaml }], options).diagnostics.filter((d) => d.severity === 'error');

t.ok(HOSTILE.length >= 30, `${HOSTILE.length} hostile cases`);
for (const c of HOSTILE) {
  t.test(`refused: ${c.name}`, async (t) => {
    const found = errorsOf(c.yaml);
    const hit = found.find((d) => d.code === c.code);
    t.ok(hit, `an error ${c.code}`, { found: found.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`) });
    t.match(hit, { file: 'workflow.yaml', line: c.line, column: c.column }, 'at the value');
  });
}
for (const c of BENIGN) {
  t.test(`accepted: ${c.name}`, async (t) => {
    t.same(errorsOf(c.yaml).filter((d) => /WHARF16\d/.test(d.code)), []);
  });
}

t.test('.. resolves against the config file\'s directory and may not climb above the app\'s files', async (t) => {
  const yaml = module('static.fileserver', '      root: ../ui\n');
  const at = (path: string, filesRoot?: string) =>
    validateWorkflowFiles([{ path, content: yaml }], { filesRoot }).diagnostics.filter((d) => d.code === 'WHARF160');
  t.same(at('apps/shop/workflow.yaml'), [], 'apps/shop/../ui is apps/ui: inside');
  t.equal(at('workflow.yaml').length, 1, 'at the root, ../ui is outside');
  t.equal(at('repo/workflow.yaml', 'repo').length, 1, 'the files root as displayed is honoured');
  t.same(at('repo/apps/workflow.yaml', 'repo'), []);
});

t.test('outbound hosts: a warning without an allow-list, an error outside one, nothing inside one', async (t) => {
  const yaml = step('step.http_call', '          url: https://api.example.com/v1/orders\n');
  const all = (options = {}) => validateWorkflowFiles([{ path: 'workflow.yaml', content: yaml }], options).diagnostics.filter((d) => d.code === 'WHARF162');
  t.match(all(), [{ severity: 'warning', line: 7, message: /api\.example\.com.*fails at run time unless the environment allows/ }]);
  t.match(all({ allowedHosts: ['other.example.com'] }), [{ severity: 'error', message: /not given/ }]);
  t.same(all({ allowedHosts: ['*.example.com'] }), []);
  t.same(all({ allowedHosts: ['api.example.com'] }), []);
});
