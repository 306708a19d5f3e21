/** Every code Wharf can emit is documented in docs/diagnostics.md, with its default severity and what the engine does. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CODES, CODE_ENGINE_VERDICT, CODE_SEVERITY, type EngineVerdict } from '../src/index.js';

/** How docs/diagnostics.md words each verdict of the engine. */
const VERDICT_WORDS: Record<EngineVerdict, string> = {
  refuses: 'refuses to load the config',
  'fails at run time': 'loads it; fails at run time',
  accepts: 'accepts',
  wharf: 'not an engine rule',
};

const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'diagnostics.md'), 'utf8');

for (const code of Object.values(CODES)) {
  t.test(code, async (t) => {
    const at = doc.indexOf(`### ${code}: `);
    t.ok(at >= 0, 'has a section');
    const section = doc.slice(at, doc.indexOf('\n### ', at + 1) === -1 ? undefined : doc.indexOf('\n### ', at + 1));
    t.match(section, new RegExp(`\\*\\*${CODE_SEVERITY[code]}`), `says it is an ${CODE_SEVERITY[code]}`);
    t.match(section, /\*\*Fix:\*\*/, 'says how to fix it');
    t.ok(section.includes(`**Engine:** ${VERDICT_WORDS[CODE_ENGINE_VERDICT[code]]}`), `says the engine ${CODE_ENGINE_VERDICT[code]}`);
  });
}

t.test('no documented code that does not exist', async (t) => {
  const documented = [...doc.matchAll(/^### (WHARF\d{3}):/gm)].map((m) => m[1]);
  t.same(documented.filter((c) => !(Object.values(CODES) as string[]).includes(c as string)), []);
});
