/** Every code Wharf can emit is documented in docs/diagnostics.md, with its default severity. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CODES, CODE_SEVERITY } from '../src/index.js';

const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'diagnostics.md'), 'utf8');

for (const code of Object.values(CODES)) {
  t.test(code, async (t) => {
    const at = doc.indexOf(`### ${code}: `);
    t.ok(at >= 0, 'has a section');
    const section = doc.slice(at, doc.indexOf('\n### ', at + 1) === -1 ? undefined : doc.indexOf('\n### ', at + 1));
    t.match(section, new RegExp(`\\*\\*${CODE_SEVERITY[code]}`), `says it is an ${CODE_SEVERITY[code]}`);
    t.match(section, /\*\*Fix:\*\*/, 'says how to fix it');
  });
}

t.test('no documented code that does not exist', async (t) => {
  const documented = [...doc.matchAll(/^### (WHARF\d{3}):/gm)].map((m) => m[1]);
  t.same(documented.filter((c) => !(Object.values(CODES) as string[]).includes(c as string)), []);
});
