/** The published workflow config schema works on its own, as an editor would use it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { createAjv } from '../src/schema/create-ajv.js';

const schemas = join(import.meta.dirname, '..', 'schemas');
const schema = JSON.parse(readFileSync(join(schemas, 'workflow-config.schema.json'), 'utf8'));
const validate = createAjv({ useDefaults: false }).compile(schema);

t.test('per-type configs are chosen by type:', async (t) => {
  const good = parse('modules:\n  - name: log\n    type: step.log\n    config: { level: info, message: hi }\n');
  const bad = parse('modules:\n  - name: pool\n    type: actor.pool\n    config: { system: a, mode: sometimes }\n');
  t.ok(validate(good), 'valid config');
  t.notOk(validate(bad), 'a value outside the options');
  t.ok(validate.errors?.some((e) => e.instancePath === '/modules/0/config/mode' && e.keyword === 'enum'));
});

t.test('every built-in type has a config schema', async (t) => {
  const source = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'upstream', 'module-schemas.json'), 'utf8'));
  t.same(Object.keys(schema.$defs.config).sort(), Object.keys(source.moduleSchemas).sort());
  t.equal(Object.keys(schema.$defs.config).length, 257);
});

t.test('the manifest schema is valid on its own', async (t) => {
  const ajv = createAjv({ useDefaults: true });
  ajv.addSchema(JSON.parse(readFileSync(join(schemas, 'workflow-app.schema.json'), 'utf8')), 'workflow-app.schema.json');
  const check = ajv.compile(JSON.parse(readFileSync(join(schemas, 'wharf-manifest.schema.json'), 'utf8')));
  t.ok(check({ apps: [{ name: 'shop', files: ['a.yaml'] }] }));
  t.notOk(check({ apps: [{ name: 'Shop', files: ['a.yaml'] }] }));
});
