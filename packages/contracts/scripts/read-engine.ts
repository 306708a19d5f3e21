/**
 * Refreshes upstream/engine-behaviour.json: what the Workflow engine refuses at load, read from its Go
 * source. Not run by tests or `npm run generate` (they use the committed JSON); run it by hand when the
 * engine moves, then `npm run generate`.
 *
 *   node --import tsx packages/contracts/scripts/read-engine.ts --checkout ~/src/workflow
 *   node --import tsx packages/contracts/scripts/read-engine.ts --commit <sha>     (GitHub's raw files)
 *
 * A checkout may hold a `snapshot.json` ({"note": "…", "commits": {"path": "sha"}}) when its files come
 * from several commits; otherwise the commit is `git rev-parse HEAD` of the checkout.
 *
 * `--keep` adds to the committed facts instead of replacing them: facts read from files this run did not
 * read are kept (with their files' commits), so a partial snapshot can extend an earlier read.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EngineFacts, type EngineFile, readEngineFacts, stepRegistrations } from './engine-facts.js';

const REPOSITORY = 'GoCodeAlone/workflow';
const OUTPUT = join(import.meta.dirname, '..', 'upstream', 'engine-behaviour.json');
const FIXED_FILES = ['schema/validate.go', 'module/http_router.go'];
/** Files fetched per run from GitHub; a bound on what one refresh may download. */
const MAX_FILES = 400;

const stepFile = (type: string) => `module/pipeline_step_${type.slice('step.'.length)}.go`;

async function fromCheckout(dir: string): Promise<{ files: EngineFile[]; note: string }> {
  const manifestPath = join(dir, 'snapshot.json');
  const manifest = existsSync(manifestPath)
    ? (JSON.parse(await readFile(manifestPath, 'utf8')) as { note?: string; commits?: Record<string, string> })
    : undefined;
  const head = manifest ? '' : execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const paths = [...FIXED_FILES];
  const pluginDirs = await readdir(join(dir, 'plugins'), { withFileTypes: true }).catch(() => []);
  for (const entry of pluginDirs) if (entry.isDirectory()) paths.push(`plugins/${entry.name}/plugin.go`);
  const moduleFiles = await readdir(join(dir, 'module')).catch(() => [] as string[]);
  for (const name of moduleFiles) if (/^pipeline_step_\w+\.go$/.test(name)) paths.push(`module/${name}`);
  const files: EngineFile[] = [];
  for (const path of paths.slice(0, MAX_FILES)) {
    const text = await readFile(join(dir, path), 'utf8').catch(() => undefined);
    const commit = manifest ? manifest.commits?.[path] : head;
    if (text !== undefined && commit) files.push({ path, text, commit });
  }
  return { files, note: manifest?.note ?? `read from a checkout at ${head}` };
}

async function fromGitHub(commit: string): Promise<{ files: EngineFile[]; note: string }> {
  const raw = async (path: string) => {
    const response = await fetch(`https://raw.githubusercontent.com/${REPOSITORY}/${commit}/${path}`);
    return response.ok ? response.text() : undefined;
  };
  const listing = await fetch(`https://api.github.com/repos/${REPOSITORY}/contents/plugins?ref=${commit}`);
  const dirs = listing.ok ? ((await listing.json()) as { name: string; type: string }[]) : [];
  const files: EngineFile[] = [];
  const add = async (path: string) => {
    const text = await raw(path);
    if (text !== undefined) files.push({ path, text, commit });
  };
  for (const path of FIXED_FILES) await add(path);
  for (const dir of dirs.filter((d) => d.type === 'dir').slice(0, MAX_FILES)) await add(`plugins/${dir.name}/plugin.go`);
  for (const type of stepRegistrations(files).keys()) {
    if (files.length >= MAX_FILES) break;
    await add(stepFile(type));
  }
  return { files, note: `read from GitHub's raw files at ${commit}` };
}

/** The facts of `fresh`, plus those of `earlier` whose files this run did not read. */
export function keepEarlier(earlier: EngineFacts, fresh: EngineFacts, note: string): EngineFacts {
  const files = { ...earlier.files, ...fresh.files };
  const steps = { ...fresh.steps };
  for (const [type, facts] of Object.entries(earlier.steps)) if (!(type in steps) && !(facts.file in fresh.files)) steps[type] = facts;
  const pick = <T extends object>(a: T, b: T): T =>
    Object.fromEntries(Object.keys({ ...a, ...b }).map((k) => [k, b[k as keyof T] ?? a[k as keyof T]])) as T;
  const byFileName = [...new Set([...(earlier.registeredByFileName ?? []).filter((t) => !(t in fresh.steps) || fresh.registeredByFileName?.includes(t)), ...(fresh.registeredByFileName ?? [])])].sort();
  return {
    repository: fresh.repository,
    note: earlier.note && !earlier.note.includes(note) ? `${earlier.note} Extended: ${note}` : (earlier.note ?? note),
    files: Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b))),
    modules: pick(earlier.modules, fresh.modules),
    routes: pick(earlier.routes, fresh.routes),
    steps: Object.fromEntries(Object.entries(steps).sort(([a], [b]) => a.localeCompare(b))),
    ...(byFileName.length > 0 ? { registeredByFileName: byFileName } : {}),
  };
}

async function main(argv: string[]): Promise<void> {
  const at = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const checkout = at('--checkout');
  const commit = at('--commit');
  if (!checkout && !commit) {
    console.error('usage: read-engine.ts --checkout DIR | --commit SHA');
    process.exitCode = 2;
    return;
  }
  const { files, note } = checkout ? await fromCheckout(checkout) : await fromGitHub(commit as string);
  const fresh = readEngineFacts(files, { repository: REPOSITORY, note });
  const facts = argv.includes('--keep') ? keepEarlier(JSON.parse(await readFile(OUTPUT, 'utf8')) as EngineFacts, fresh, note) : fresh;
  await writeFile(OUTPUT, `${JSON.stringify(facts, null, 2)}\n`);
  console.log(`wrote ${relative(process.cwd(), OUTPUT)}: ${files.length} files, ${Object.keys(facts.steps).length} step factories`);
}

if (process.argv[1] && relative(process.argv[1], fileURLToPath(import.meta.url)) === '') await main(process.argv.slice(2));
