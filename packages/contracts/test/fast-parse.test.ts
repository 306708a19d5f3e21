/**
 * The fast parse (js-yaml events) and the exact one (the `yaml` package) give the same result: the same
 * values (they are hashed into the version digest) and the same diagnostics at the same positions, for
 * the engine's examples, Wharf's examples, the bad corpus and the hostile corpus turned into files.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { validateWorkflowFiles } from '../src/index.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const repoExamples = join(import.meta.dirname, '..', '..', '..', 'examples');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return name.endsWith('.yaml') && !name.endsWith('.wharf.yaml') && name !== 'wharf.yaml' ? [path] : [];
  });
}

const files = [...yamlFiles(join(fixtures, 'upstream')), ...yamlFiles(join(fixtures, 'bad')), ...yamlFiles(repoExamples)];
t.ok(files.length > 80, `${files.length} files`);

for (const path of files) {
  t.test(path.slice(path.indexOf('/', path.indexOf('fixtures') >= 0 ? path.indexOf('fixtures') : path.indexOf('examples'))), async (t) => {
    const file = [{ path: 'workflow.yaml', content: readFileSync(path, 'utf8') }];
    const fast = validateWorkflowFiles(file, { parser: 'fast' });
    const exact = validateWorkflowFiles(file, { parser: 'exact' });
    t.same(fast.documents, exact.documents, 'same values');
    t.same(fast.diagnostics, exact.diagnostics, 'same diagnostics, same positions');
  });
}

t.test('scalars resolve the same way (YAML 1.2 core schema with merge keys)', async (t) => {
  const scalars = ['1', '-1', '+1', '0o17', '017', '0x1F', '0b101', '1_000', '1.5', '.5', '1e3', '.inf', '-.Inf', '.NaN', 'true', 'True', 'TRUE', 'yes', 'no', 'on', 'off', 'null', 'Null', '~', '', '2026-11-22', '2026-11-22T10:00:00Z', '12:30', '0', '-0', '00', "'q'", '"\\u0041"', '<<'];
  const content = `${scalars.map((s, i) => `k${i}: ${s}`).join('\n')}\nmerged:\n  <<: {a: 1, b: 2}\n  b: 3\n__proto__: {x: 1}\n`;
  const file = [{ path: 'w.yaml', content }];
  t.same(validateWorkflowFiles(file, { parser: 'fast' }).documents, validateWorkflowFiles(file, { parser: 'exact' }).documents);
});
