/**
 * The engine's own example configs are valid: zero errors for each of the 31 (warnings are allowed).
 * They are validated at the path they have in the engine's repository (`example/<file>`), because
 * relative paths in a config resolve against its directory (ui-build-and-serve.yaml reads `../ui`).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { formatDiagnostic, validateWorkflowFiles } from '../src/index.js';

const dir = join(import.meta.dirname, 'fixtures', 'upstream');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

t.equal(files.length, 31, 'all 31 upstream examples are here');
for (const file of files) {
  t.test(file, async (t) => {
    const content = readFileSync(join(dir, file), 'utf8');
    const result = validateWorkflowFiles([{ path: `example/${file}`, content }]);
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    t.same(errors.map(formatDiagnostic), [], 'no errors');
    t.equal(result.documents.length, 1, 'one document parsed');
    t.match(result.documents[0]?.value, { modules: Array }, 'the parsed value has its modules');
  });
}
