/**
 * Fuzzing the validator: random mutations of the engine's upstream examples (lines deleted, duplicated,
 * swapped, re-indented, YAML punctuation and anchors inserted, scalars replaced, files truncated).
 * Every result must be a list of well-formed diagnostics; no exception may escape. Inputs (up to 1,000
 * lines) over 50 ms are timed three more times: `over_50ms_on_rerun` counts those still slow at their best.
 * Every input is also validated with the exact YAML parser: `parser_mismatches` counts inputs where the
 * fast parse gave other values or diagnostics (it must stay 0).
 * Bounded: WHARF_FUZZ_COUNT or argv[2] mutations (default 100,000), stopping early after 10 minutes.
 * Usage: npm run bench -- validate-fuzz [count] [seed]
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { SEVERITIES, validateWorkflowFiles } from '@wharf/contracts';

const COUNT = Number(process.argv[2] ?? process.env.WHARF_FUZZ_COUNT ?? 100_000);
const SEED = Number(process.argv[3] ?? process.env.WHARF_FUZZ_SEED ?? 20261122);
const BUDGET_MS = 10 * 60_000;
const SLOW_MS = 50;

const dir = path.resolve(import.meta.dirname, '..', 'packages', 'contracts', 'test', 'fixtures', 'upstream');
const examples = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => readFileSync(path.join(dir, f), 'utf8'));

/** mulberry32: a small seeded PRNG, so a failing input can be reproduced from its seed and index. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;

const PUNCTUATION = [':', '-', '[', ']', '{', '}', ',', '&a', '*a', '!', '!!str', '|', '>', "'", '"', '#', '%', '@', '`', '?', '\t', '\n', ' ', '<<: *a', '---', '...', '\\', '{{', '}}', '$' + '{X}'];
const SCALARS = ['', 'null', '~', 'true', 'no', '0', '-1', '3.5', '1e400', '0x1F', '"text"', "'it''s'", '[]', '{}', '[a, b]', '{a: 1}', '*a', '&a x', 'x'.repeat(300), '"\\u0000"', '2026-11-22', '.inf'];
const KEYS = ['name', 'type', 'config', 'dependsOn', 'modules', 'pipelines', 'steps', 'routes', 'handler', 'router', 'server', 'database', 'broker', 'trigger', 'method', 'path', '<<'];
const TYPES = ['http.server', 'http.router', 'step.set', 'step.log', 'actor.pool', 'plugin.thing', 'step.conditional', 'persistence.store', ''];

type Mutation = (lines: string[]) => string[];
const mutations: Mutation[] = [
  (l) => (l.length > 1 ? l.toSpliced(int(l.length), 1) : l),
  (l) => {
    const i = int(l.length);
    return l.toSpliced(i, 0, l[i] ?? '');
  },
  (l) => {
    const i = int(l.length);
    const j = int(l.length);
    const out = [...l];
    [out[i], out[j]] = [out[j] ?? '', out[i] ?? ''];
    return out;
  },
  (l) => {
    const i = int(l.length);
    const line = l[i] ?? '';
    const shift = int(5) - 2;
    return l.toSpliced(i, 1, shift > 0 ? ' '.repeat(shift) + line : line.slice(-shift));
  },
  (l) => {
    const i = int(l.length);
    const line = l[i] ?? '';
    const at = int(line.length + 1);
    return l.toSpliced(i, 1, line.slice(0, at) + pick(PUNCTUATION) + line.slice(at));
  },
  (l) => {
    const i = int(l.length);
    const line = l[i] ?? '';
    const colon = line.indexOf(': ');
    return colon < 0 ? l : l.toSpliced(i, 1, `${line.slice(0, colon + 2)}${pick(SCALARS)}`);
  },
  (l) => {
    const i = int(l.length);
    const line = l[i] ?? '';
    const m = /^(\s*-?\s*)([\w.<]+):/.exec(line);
    return m ? l.toSpliced(i, 1, line.replace(/^(\s*-?\s*)[\w.<]+:/, `$1${pick(KEYS)}:`)) : l;
  },
  (l) => {
    const i = int(l.length);
    const line = l[i] ?? '';
    return /type: /.test(line) ? l.toSpliced(i, 1, line.replace(/type: .*/, `type: ${pick(TYPES)}`)) : l;
  },
  (l) => {
    const start = int(l.length);
    const len = 1 + int(8);
    return l.toSpliced(start, 0, ...l.slice(start, start + len));
  },
  (l) => l.slice(0, 1 + int(l.length)),
  (l) => {
    const i = int(l.length);
    const line = l[i] ?? '';
    const at = int(line.length + 1);
    return l.toSpliced(i, 1, line.slice(0, at) + String.fromCharCode(int(0x3000)) + line.slice(at));
  },
  (l) => {
    const i = int(l.length);
    return l.toSpliced(i, 0, `${' '.repeat(int(8))}${pick(KEYS)}: &a ${pick(SCALARS)}`, `${' '.repeat(int(8))}${pick(KEYS)}: *a`);
  },
];

function mutate(text: string): string {
  let lines = text.split('\n');
  const n = 1 + int(4);
  for (let i = 0; i < n; i++) lines = pick(mutations)(lines);
  return lines.join('\n');
}

const wellFormed = (d: unknown): boolean => {
  const x = d as Record<string, unknown>;
  return (
    typeof x.file === 'string' &&
    Number.isInteger(x.line) && (x.line as number) >= 1 &&
    Number.isInteger(x.column) && (x.column as number) >= 1 &&
    Number.isInteger(x.endLine) && (x.endLine as number) >= (x.line as number) &&
    Number.isInteger(x.endColumn) && (x.endColumn as number) >= 1 &&
    (SEVERITIES as readonly unknown[]).includes(x.severity) &&
    typeof x.code === 'string' && /^WHARF\d{3}$/.test(x.code) &&
    typeof x.message === 'string' && x.message.length > 0
  );
};

// warm-up: compile every schema once
for (const e of examples) validateWorkflowFiles([{ path: 'warm.yaml', content: e }]);

let escaped = 0;
let malformed = 0;
let maxMs = 0;
let maxLines = 0;
let slowFirst = 0;
let slowConfirmed = 0;
let maxRerunMs = 0;
let withErrors = 0;
let mismatches = 0;
let done = 0;
const samples: string[] = [];
const started = performance.now();
for (; done < COUNT && performance.now() - started < BUDGET_MS; done++) {
  const content = mutate(pick(examples));
  const lines = content.split('\n').length;
  const time = () => {
    const t0 = performance.now();
    const result = validateWorkflowFiles([{ path: 'fuzz.yaml', content }]);
    return { ms: performance.now() - t0, result };
  };
  try {
    const { ms, result } = time();
    if (!Array.isArray(result.diagnostics) || !result.diagnostics.every(wellFormed)) malformed++;
    if (result.diagnostics.some((d) => d.severity === 'error')) withErrors++;
    const exact = validateWorkflowFiles([{ path: 'fuzz.yaml', content }], { parser: 'exact' });
    if (!isDeepStrictEqual(exact.documents, result.documents) || !isDeepStrictEqual(exact.diagnostics, result.diagnostics)) {
      mismatches++;
      if (samples.length < 3) samples.push(JSON.stringify({ index: done, mismatch: content.slice(0, 200) }));
    }
    if (result.diagnostics.some((d) => d.message.startsWith('Validation stopped on an internal error'))) {
      escaped++;
      if (samples.length < 3) samples.push(JSON.stringify({ index: done, message: result.diagnostics.find((d) => d.message.startsWith('Validation stopped'))?.message }));
    }
    if (ms > maxMs) {
      maxMs = ms;
      maxLines = lines;
    }
    if (ms > SLOW_MS && lines <= 1000) {
      slowFirst++;
      // the best of three more runs separates a slow input from a garbage-collection or scheduling pause
      const best = Math.min(time().ms, time().ms, time().ms);
      if (best > SLOW_MS) slowConfirmed++;
      if (best > maxRerunMs) maxRerunMs = best;
    }
  } catch (err) {
    escaped++;
    if (samples.length < 3) samples.push(JSON.stringify({ index: done, error: String(err) }));
  }
}
const totalMs = performance.now() - started;
for (const s of samples) console.log(`escaped: ${s}`);
console.log(`fuzz: ${done} mutations (seed ${SEED}) in ${Math.round(totalMs / 1000)} s, ${withErrors} with errors, max ${maxMs.toFixed(1)} ms`);
console.log(
  JSON.stringify({
    bench: 'validate-fuzz',
    mutations: done,
    seed: SEED,
    escaped_exceptions: escaped,
    malformed_results: malformed,
    with_errors: withErrors,
    parser_mismatches: mismatches,
    max_ms: Math.round(maxMs * 10) / 10,
    max_ms_lines: maxLines,
    over_50ms: slowFirst,
    over_50ms_on_rerun: slowConfirmed,
    max_rerun_ms: Math.round(maxRerunMs * 10) / 10,
    mean_ms: Math.round((totalMs / Math.max(1, done)) * 100) / 100,
    total_s: Math.round(totalMs / 100) / 10,
  }),
);
