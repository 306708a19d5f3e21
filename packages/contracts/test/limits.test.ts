/** Hostile or broken input: refused with a clear diagnostic, quickly, never a crash or a hang. */
import t from 'tap';
import { LIMITS, validateWorkflowFiles } from '../src/index.js';

const timed = <T>(fn: () => T): [T, number] => {
  const start = performance.now();
  const value = fn();
  return [value, performance.now() - start];
};

t.test('a file over the size limit is not parsed', async (t) => {
  const content = `modules:\n${'  - name: x\n    type: http.server\n'.repeat(40_000)}`;
  t.ok(Buffer.byteLength(content) > LIMITS.maxFileBytes);
  const [result, ms] = timed(() => validateWorkflowFiles([{ path: 'big.yaml', content }]));
  t.match(result.diagnostics, [{ code: 'WHARF101', severity: 'error', line: 1, file: 'big.yaml' }]);
  t.equal(result.diagnostics.length, 1);
  t.same(result.documents, []);
  t.ok(ms < 100, `refused in ${ms.toFixed(1)} ms`);
});

t.test('multi-byte text counts in bytes', async (t) => {
  const content = `description: "${'é'.repeat(600_000)}"\n`;
  t.ok(content.length < LIMITS.maxFileBytes && Buffer.byteLength(content) > LIMITS.maxFileBytes);
  t.match(validateWorkflowFiles([{ path: 'a.yaml', content }]).diagnostics, [{ code: 'WHARF101' }]);
});

for (const [name, content] of [
  ['100,000 nested flow sequences', `modules: ${'['.repeat(100_000)}${']'.repeat(100_000)}`],
  ['100,000 nested block sequences', `modules:\n${'- '.repeat(100_000)}x\n`],
  ['1,000 nested block mappings', `${Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} x\n`],
  ['100,000 nested flow mappings', `a: ${'{a: '.repeat(100_000)}1${'}'.repeat(100_000)}`],
] as const) {
  t.test(`nesting: ${name}`, async (t) => {
    const [result, ms] = timed(() => validateWorkflowFiles([{ path: 'deep.yaml', content }]));
    t.match(result.diagnostics, [{ code: 'WHARF102', severity: 'error' }]);
    t.ok(ms < 500, `refused in ${ms.toFixed(1)} ms`);
  });
}

t.test('nesting at the limit of real configs is fine', async (t) => {
  const content = `modules:\n  - name: a\n    type: http.server\n    config:\n      tls: ${'{a: '.repeat(30)}1${'}'.repeat(30)}\n`;
  t.notMatch(validateWorkflowFiles([{ path: 'ok.yaml', content }]).diagnostics, [{ code: 'WHARF102' }]);
});

t.test('billion laughs: alias expansion is bounded', async (t) => {
  const lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  for (let i = 1; i < 10; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
  }
  const [result, ms] = timed(() => validateWorkflowFiles([{ path: 'lol.yaml', content: `${lines.join('\n')}\n` }]));
  t.match(result.diagnostics, [{ code: 'WHARF103', severity: 'error', line: 2 }]);
  t.same(result.documents, [], 'the expanded value is never built');
  t.ok(ms < 500, `refused in ${ms.toFixed(1)} ms`);
});

t.test('a few aliases and merge keys are normal YAML', async (t) => {
  const content = `defaults: &defaults\n  address: ":8080"\nmodules:\n  - name: a\n    type: http.server\n    config:\n      <<: *defaults\n`;
  const result = validateWorkflowFiles([{ path: 'ok.yaml', content }]);
  t.same(result.diagnostics.filter((d) => d.severity === 'error'), []);
  t.match(result.documents[0]?.value, { modules: [{ config: { address: ':8080' } }] }, 'merge keys are resolved in the value');
});

t.test('too many files in one app', async (t) => {
  const files = Array.from({ length: LIMITS.maxFilesPerApp + 1 }, (_, i) => ({ path: `f${i}.yaml`, content: 'modules: []\n' }));
  t.match(validateWorkflowFiles(files).diagnostics, [{ code: 'WHARF104', severity: 'error' }]);
  t.same(validateWorkflowFiles(files.slice(0, 3), { limits: { maxFilesPerApp: 2 } }).diagnostics.map((d) => d.code), ['WHARF104']);
  t.same(validateWorkflowFiles(files.slice(0, 2), { limits: { maxFilesPerApp: 2 } }).diagnostics, []);
});

t.test('garbage never throws', async (t) => {
  for (const content of ['\u0000\u0001', '{{{{', ': : :', '- [a, {b: ]', '%YAML 9.9\n---\na', '!!binary x', '&a *a', '? [a]\n: b', '\t- x']) {
    const result = validateWorkflowFiles([{ path: 'x.yaml', content }]);
    t.ok(Array.isArray(result.diagnostics), JSON.stringify(content));
  }
});

t.test('wide mappings stay fast: duplicate keys are found in one pass', async (t) => {
  const wide = `platform:\n${Array.from({ length: 40_000 }, (_, i) => `  k${i}: ${i}`).join('\n')}\n`;
  const [clean, ms] = timed(() => validateWorkflowFiles([{ path: 'wide.yaml', content: wide }]));
  t.same(clean.diagnostics, []);
  t.ok(ms < 10_000, `40,000 keys in ${ms.toFixed(0)} ms (the parser's pairwise check took minutes)`);
  const dup = `platform:\n${Array.from({ length: 5_000 }, (_, i) => `  k${i % 10}: ${i}`).join('\n')}\n`;
  const result = validateWorkflowFiles([{ path: 'dup.yaml', content: dup }]);
  t.equal(result.diagnostics.filter((d) => d.code === 'WHARF106').length, 200, 'the first 200 duplicates are listed');
  t.match(result.diagnostics.filter((d) => d.code === 'WHARF109'), [{ severity: 'info', message: /^4790 more YAML problems/ }]);
  t.match(result.diagnostics.find((d) => d.code === 'WHARF106'), { line: 12, message: /"k0" appears twice/ });
});

t.test('many unknown keys: the first 200 are listed, the rest summed up', async (t) => {
  const content = `modules:\n  - name: s\n    type: http.server\n    config:\n${Array.from({ length: 1000 }, (_, i) => `      k${i}: ${i}`).join('\n')}\n`;
  const result = validateWorkflowFiles([{ path: 'keys.yaml', content }]);
  t.equal(result.diagnostics.filter((d) => d.code === 'WHARF113').length, 200);
  t.match(result.diagnostics.filter((d) => d.code === 'WHARF109'), [{ severity: 'info', message: /^800 more problems in the config of module "s"/ }]);
});

t.test('templates are scanned in one pass', async (t) => {
  const message = '{{ '.repeat(250_000);
  const content = `pipelines:\n  p:\n    steps:\n      - name: a\n        type: step.log\n        config:\n          message: "${message}"\n`;
  const [result, ms] = timed(() => validateWorkflowFiles([{ path: 't.yaml', content }]));
  t.same(result.diagnostics.filter((d) => d.severity === 'error'), []);
  t.ok(ms < 10_000, `750 kB of unclosed "{{" in ${ms.toFixed(0)} ms`);
});
