/**
 * The bad-input corpus: every fixture names the code and line it must be reported at
 * (`# expect: WHARF131 @ line 8`). Each expected finding must be there, and no error-severity finding
 * may appear that the fixture does not expect.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { type Diagnostic, parseManifest, validateWorkflowFiles } from '../src/index.js';

const dir = join(import.meta.dirname, 'fixtures', 'bad');
const EXPECT = /^# expect: (WHARF\d{3}) @ line (\d+)$/gm;

interface Expectation {
  file: string;
  code: string;
  line: number;
}

const expectationsIn = (file: string, text: string): Expectation[] =>
  [...text.matchAll(EXPECT)].map((m) => ({ file, code: m[1] as string, line: Number(m[2]) }));

function check(t: Test, expectations: Expectation[], diagnostics: Diagnostic[]) {
  t.ok(expectations.length > 0, 'the fixture states what it expects');
  for (const e of expectations) {
    const hit = diagnostics.find((d) => d.file === e.file && d.code === e.code && d.line === e.line);
    t.ok(hit, `${e.code} at ${e.file}:${e.line}`, { found: diagnostics.map((d) => `${d.file}:${d.line} ${d.code} ${d.message}`) });
    if (hit) t.match(hit.message, /\w+.*[.?!]$/s, 'the message is a sentence');
  }
  const unexpected = diagnostics.filter(
    (d) => d.severity === 'error' && !expectations.some((e) => e.code === d.code && e.file === d.file),
  );
  t.same(unexpected, [], 'no other errors');
}

const entries = readdirSync(dir).sort();
t.ok(entries.length >= 40, `at least 40 bad inputs (${entries.length})`);

for (const entry of entries) {
  const path = join(dir, entry);
  if (statSync(path).isDirectory()) {
    t.test(entry, async (t) => {
      const files = readdirSync(path)
        .sort()
        .map((name) => ({ path: name, content: readFileSync(join(path, name), 'utf8') }));
      const expectations = files.flatMap((f) => expectationsIn(f.path, f.content));
      check(t, expectations, validateWorkflowFiles(files).diagnostics);
    });
  } else if (entry.endsWith('.wharf.yaml')) {
    t.test(entry, async (t) => {
      const text = readFileSync(path, 'utf8');
      const result = parseManifest(entry, text);
      t.equal(result.manifest, undefined, 'no manifest from an invalid file');
      check(t, expectationsIn(entry, text), result.diagnostics);
    });
  } else if (entry.endsWith('.yaml')) {
    t.test(entry, async (t) => {
      const text = readFileSync(path, 'utf8');
      check(t, expectationsIn(entry, text), validateWorkflowFiles([{ path: entry, content: text }]).diagnostics);
    });
  }
}
