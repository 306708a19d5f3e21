/**
 * Validation speed on real configs: the engine's 31 upstream examples validated in one process after a
 * warm-up (schemas compiled once), and one ~1 MiB config built from the examples' modules.
 * Bounded: at most 20 rounds or 20 s of corpus runs, 5 runs of the large config.
 * Usage: npm run bench -- validate-corpus [rounds]
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { validateWorkflowFiles } from '@wharf/contracts';
import { parse, stringify } from 'yaml';

const ROUNDS = Math.max(1, Number(process.argv[2] ?? 20));
const BUDGET_MS = 20_000;
const dir = path.resolve(import.meta.dirname, '..', 'packages', 'contracts', 'test', 'fixtures', 'upstream');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  // at their path in the engine's repository: relative paths in a config resolve against its directory
  .map((f) => ({ path: `example/${f}`, content: readFileSync(path.join(dir, f), 'utf8') }));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const round1 = (x: number) => Math.round(x * 10) / 10;

function corpusRound(): { ms: number; errors: number; warnings: number } {
  let errors = 0;
  let warnings = 0;
  const started = performance.now();
  for (const file of files) {
    for (const d of validateWorkflowFiles([file]).diagnostics) {
      if (d.severity === 'error') errors++;
      else if (d.severity === 'warning') warnings++;
    }
  }
  return { ms: performance.now() - started, errors, warnings };
}

/** ~1 MiB of realistic modules: every example's modules, renamed, repeated, written as YAML. */
function largeConfig(): string {
  const modules: Record<string, unknown>[] = [];
  for (const f of files) {
    const value = parse(f.content) as { modules?: Record<string, unknown>[] };
    for (const m of value.modules ?? []) if (!m.dependsOn) modules.push(m);
  }
  const blocks: string[] = ['modules:\n'];
  let size = blocks[0]?.length ?? 0;
  for (let i = 0; size < 1_040_000; i++) {
    const m = modules[i % modules.length] as Record<string, unknown>;
    const block = stringify([{ ...m, name: `${String(m.name)}-${i}` }])
      .split('\n')
      .map((line) => (line ? `  ${line}` : line))
      .join('\n');
    blocks.push(block);
    size += Buffer.byteLength(block);
  }
  return blocks.join('');
}

const cold = corpusRound();
const rounds: number[] = [];
const benchStarted = performance.now();
let last = cold;
while (rounds.length < ROUNDS && performance.now() - benchStarted < BUDGET_MS) {
  last = corpusRound();
  rounds.push(last.ms);
}
const big = largeConfig();
const bigRuns: number[] = [];
let bigErrors = 0;
for (let i = 0; i < 5; i++) {
  const started = performance.now();
  const result = validateWorkflowFiles([{ path: 'large.yaml', content: big }]);
  bigRuns.push(performance.now() - started);
  bigErrors = result.diagnostics.filter((d) => d.severity === 'error').length;
}
console.log(`corpus: ${files.length} files, cold ${round1(cold.ms)} ms, warm median ${round1(median(rounds))} ms over ${rounds.length} rounds`);
console.log(`large config: ${Buffer.byteLength(big)} bytes, median ${round1(median(bigRuns))} ms over ${bigRuns.length} runs`);
console.log(
  JSON.stringify({
    bench: 'validate-corpus',
    files: files.length,
    errors: last.errors,
    warnings: last.warnings,
    total_ms: round1(median(rounds)),
    total_ms_min: round1(Math.min(...rounds)),
    total_ms_max: round1(Math.max(...rounds)),
    cold_ms: round1(cold.ms),
    rounds: rounds.length,
    large_bytes: Buffer.byteLength(big),
    large_ms: round1(median(bigRuns)),
    large_ms_min: round1(Math.min(...bigRuns)),
    large_errors: bigErrors,
  }),
);
