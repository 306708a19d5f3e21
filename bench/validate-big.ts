/**
 * Validation speed of one config just under the 1 MiB file limit: the engine's example modules, renamed
 * and repeated, plus HTTP pipelines with typical steps, so every stage (parse, schemas, engine rules,
 * semantic checks, confinement) has real work. Prints the medians, over the timed runs after a warm-up,
 * of the wall time (`ms`) and the process's CPU time (`cpu_ms`, garbage-collector threads included), and
 * on Linux the mean of the main thread's CPU time (`main_thread_cpu_ms`, 10 ms ticks): on a machine shared with
 * other work the wall time mostly measures waiting, and the main thread's CPU time is what the wall
 * time would be on an idle one.
 * Bounded: at most RUNS runs (default 7, argv[2]) or 60 s.
 * Usage: npm run bench -- validate-big [runs]
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { LIMITS, validateWorkflowFiles } from '@wharf/contracts';
import { parse, stringify } from 'yaml';

const RUNS = Math.max(1, Math.min(50, Number(process.argv[2] ?? 7)));
const BUDGET_MS = 60_000;
const TARGET_BYTES = LIMITS.maxFileBytes - 8_192;

const dir = path.resolve(import.meta.dirname, '..', 'packages', 'contracts', 'test', 'fixtures', 'upstream');
const modules: Record<string, unknown>[] = [];
for (const f of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
  const value = parse(readFileSync(path.join(dir, f), 'utf8')) as { modules?: Record<string, unknown>[] };
  for (const m of value.modules ?? []) if (!m.dependsOn) modules.push(m);
}

const indent = (text: string, by: string) =>
  text
    .split('\n')
    .map((line) => (line ? `${by}${line}` : line))
    .join('\n');

function pipelineYaml(i: number): string {
  return indent(
    stringify({
      [`orders-${i}`]: {
        trigger: { type: 'http', config: { method: 'POST', path: `/orders-${i}/{id}` } },
        steps: [
          { name: 'parse', type: 'step.request_parse', config: { path_params: ['id'], parse_body: true } },
          { name: 'check', type: 'step.validate', config: { strategy: 'required_fields', required_fields: ['customer'] } },
          { name: 'note', type: 'step.log', config: { level: 'info', message: `order {{ .steps.parse.path_params.id }} for pipeline ${i}` } },
          { name: 'load', type: 'step.db_query', config: { database: 'db', query: 'SELECT * FROM orders WHERE id = ?', params: ['{{ .steps.parse.path_params.id }}'], mode: 'single' } },
          { name: 'shape', type: 'step.set', config: { values: { id: '{{ .steps.load.row.id }}', status: 'seen' } } },
          { name: 'respond', type: 'step.json_response', config: { status: 200, body: { id: '{{ .steps.shape.id }}' } } },
        ],
      },
    }),
    '  ',
  );
}

function bigConfig(): string {
  const parts: string[] = ['modules:\n'];
  let size = parts[0]?.length ?? 0;
  const pipelines: string[] = [];
  for (let i = 0; size < TARGET_BYTES; i++) {
    // two parts modules to one part pipelines, by bytes
    if (i % 3 === 2) {
      const block = pipelineYaml(i);
      pipelines.push(block);
      size += Buffer.byteLength(block);
    } else {
      const m = modules[i % modules.length] as Record<string, unknown>;
      const block = indent(stringify([{ ...m, name: `${String(m.name)}-${i}` }]), '  ');
      parts.push(block);
      size += Buffer.byteLength(block);
    }
  }
  return `${parts.join('')}pipelines:\n${pipelines.join('')}`;
}

/** CPU time of this process's main thread in ms (Linux; 10 ms ticks), or undefined elsewhere. */
const STAT = `/proc/self/task/${process.pid}/stat`;
function mainThreadCpuMs(): number | undefined {
  if (!existsSync(STAT)) return undefined;
  const fields = readFileSync(STAT, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const round1 = (x: number) => Math.round(x * 10) / 10;

const content = bigConfig();
const bytes = Buffer.byteLength(content);
const file = { path: 'big.yaml', content };
const warm = validateWorkflowFiles([file]);
const runs: number[] = [];
const cpu: number[] = [];
const mainThread: number[] = [];
const started = performance.now();
while (runs.length < RUNS && performance.now() - started < BUDGET_MS) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const m0 = mainThreadCpuMs();
  validateWorkflowFiles([file]);
  const c = process.cpuUsage(c0);
  const m1 = mainThreadCpuMs();
  runs.push(performance.now() - t0);
  cpu.push((c.user + c.system) / 1000);
  if (m0 !== undefined && m1 !== undefined) mainThread.push(m1 - m0);
}
const errors = warm.diagnostics.filter((d) => d.severity === 'error').length;
const warnings = warm.diagnostics.filter((d) => d.severity === 'warning').length;
console.log(`big config: ${bytes} bytes, ${errors} errors, ${warnings} warnings; runs ${runs.map((r) => round1(r)).join(', ')} ms`);
console.log(
  JSON.stringify({
    bench: 'validate-big',
    ms: round1(median(runs)),
    min_ms: round1(Math.min(...runs)),
    max_ms: round1(Math.max(...runs)),
    cpu_ms: round1(median(cpu)),
    ...(mainThread.length > 0 ? { main_thread_cpu_ms: round1(mainThread.reduce((a, b) => a + b, 0) / mainThread.length) } : {}),
    runs: runs.length,
    bytes,
    errors,
    warnings,
    loadavg_1m: round1(loadavg()[0] ?? 0),
  }),
);
