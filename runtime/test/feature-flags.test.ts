/**
 * featureflag.service with the engine's generic provider, step.feature_flag and step.ff_gate
 * (featureflag/generic/provider.go, module/pipeline_step_feature_flag.go, pipeline_step_ff_gate.go). Flags live
 * in a SQLite file with the engine's schema; a storage.sqlite module naming the same file manages them with SQL.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createRuntime } from '../src/runtime.js';
import { call } from './helpers/start-runtime.js';

const admin = (path: string, sql: string) => `  ${path.slice(1).replace(/\W/g, '-')}:
    trigger: { type: http, config: { path: ${path}, method: POST } }
    steps:
      - { name: run, type: step.db_exec, config: { database: admin, query: ${JSON.stringify(sql)} } }
`;

const yaml = `modules:
  - { name: flags, type: featureflag.service, config: { provider: generic, db_path: data/flags.db } }
  - { name: admin, type: storage.sqlite, config: { dbPath: data/flags.db } }
pipelines:
${admin('/admin/create', "INSERT INTO feature_flags (key, type, enabled, default_val) VALUES ('checkout-v2', 'boolean', 0, 'true')")}
${admin('/admin/enable', "UPDATE feature_flags SET enabled = 1, default_val = 'false'")}
${admin('/admin/overrides', "INSERT INTO flag_overrides (flag_key, scope, scope_key, value) VALUES ('checkout-v2', 'user', 'vip', 'true'), ('checkout-v2', 'group', 'beta', 'true')")}
${admin('/admin/rule', "INSERT INTO flag_rules (flag_key, priority, attribute, operator, value, serve_value) VALUES ('checkout-v2', 1, 'groups', 'contains', 'staff', 'true')")}
  check:
    trigger: { type: http, config: { path: /check, method: POST } }
    steps:
      - { name: f, type: step.feature_flag, config: { flag: checkout-v2, user_from: "{{ .body.user }}", group_from: "{{ .body.groups }}", output_key: v2 } }
      - { name: out, type: step.json_response, config: { body: { v2: { _from: steps.f.v2 } } } }
  gate:
    trigger: { type: http, config: { path: /gate, method: POST } }
    steps:
      - { name: g, type: step.ff_gate, config: { flag: checkout-v2, user_from: "{{ .body.user }}", on_enabled: new, on_disabled: old } }
      - { name: new, type: step.json_response, config: { body: { path: new } } }
      - { name: old, type: step.json_response, config: { body: { path: old } } }
`;

t.test('flags evaluate in the engine order: disabled, user override, group override, rules, percentage, default', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-rt-flags-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'app.yaml'), yaml);
  const rt = await createRuntime({ configFiles: [join(dir, 'app.yaml')], dataDir: join(dir, 'data'), port: 0, digest: 'd' });
  t.teardown(() => rt.close());
  const check = async (body: Record<string, string>) => (await call(`${rt.url}/check`, { body })).body.v2;

  const unknown = await call(`${rt.url}/check`, { body: { user: 'u1' } });
  t.equal(unknown.status, 500, 'an unknown flag fails the step, as in the engine');
  t.match(unknown.body.error, /flag "checkout-v2" not found/);

  // The schema is the engine's: rows written with plain SQL, through a storage.sqlite module on the same file, are what the provider reads.
  const sql = async (path: string) => t.equal((await call(`${rt.url}${path}`, { body: {} })).status, 202, `${path} ran`);
  await sql('/admin/create');
  t.same(await check({ user: 'u1' }), { enabled: true, variant: 'true', value: true }, 'disabled: the default value');
  await sql('/admin/enable');
  await sql('/admin/overrides');
  await sql('/admin/rule');
  t.same((await check({ user: 'vip' })).enabled, true, 'a user override');
  t.same((await check({ user: 'u2', groups: 'alpha, beta' })).enabled, true, 'a group override');
  t.same((await check({ user: 'u3', groups: 'staff-eu' })).enabled, true, 'a targeting rule on the groups attribute');
  t.same(await check({ user: 'u4' }), { enabled: false, variant: 'false', value: false }, 'otherwise the default');
  t.same((await call(`${rt.url}/gate`, { body: { user: 'vip' } })).body, { path: 'new' }, 'ff_gate continues at on_enabled');
  t.same((await call(`${rt.url}/gate`, { body: { user: 'u4' } })).body, { path: 'old' }, 'and at on_disabled');
});

t.test('flag steps need a featureflag.service, and ff_gate both targets, as in the engine', async (t) => {
  const refused = async (config: string, message: RegExp) => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-rt-flags-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'app.yaml'), config);
    await t.rejects(createRuntime({ configFiles: [join(dir, 'app.yaml')], port: 0, digest: 'd' }), message);
  };
  await refused('pipelines:\n  p:\n    steps:\n      - { name: f, type: step.feature_flag, config: { flag: x } }\n', /needs a featureflag\.service module/);
  await refused(
    'modules:\n  - { name: flags, type: featureflag.service }\npipelines:\n  p:\n    steps:\n      - { name: g, type: step.ff_gate, config: { flag: x, on_enabled: a } }\n',
    /config\.on_disabled is required/,
  );
  await refused('modules:\n  - { name: flags, type: featureflag.service, config: { provider: launchdarkly } }\n', /unsupported provider "launchdarkly"/);
  await refused('modules:\n  - { name: flags, type: featureflag.service, config: { db_path: /etc/flags.db } }\n', /config\.db_path: "\/etc\/flags\.db" is an absolute path/);
});
