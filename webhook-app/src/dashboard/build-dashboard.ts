/**
 * The dashboard's browser bundle, built with esbuild on demand (first start, or when a source is newer than the
 * build), as the reference runtime's bundle is: no committed build output and no build server at run time. Files are
 * content-hashed (`app-3F2A….js`) and written atomically, then `manifest.json` names them; a concurrent builder
 * writes the same bytes under the same names, and a reader only ever follows a complete manifest.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const DASHBOARD_CLIENT_DIR = path.join(HERE, 'client');
const ENTRY = path.join(DASHBOARD_CLIENT_DIR, 'main.tsx');
/** Default place of the build: `webhook-app/.build/dashboard` (gitignored). */
export const DASHBOARD_BUILD_DIR = path.resolve(HERE, '..', '..', '.build', 'dashboard');

export interface DashboardManifest {
  /** Entry script and stylesheet, relative to the build dir. */
  js: string;
  css: string;
  /** Every file the page may ask for (the script, the stylesheet). */
  files: string[];
  /** Every source the build read (absolute): a newer one means the build is stale. */
  inputs: string[];
  builtAt: string;
}

const MANIFEST = 'manifest.json';

async function readManifest(dir: string): Promise<DashboardManifest | null> {
  try {
    const manifest = JSON.parse(await readFile(path.join(dir, MANIFEST), 'utf8')) as DashboardManifest;
    return Array.isArray(manifest.files) && Array.isArray(manifest.inputs) ? manifest : null;
  } catch {
    return null;
  }
}

/** A manifest whose files all exist and whose inputs are all older than it. */
async function isFresh(dir: string, manifest: DashboardManifest): Promise<boolean> {
  const built = (await stat(path.join(dir, MANIFEST))).mtimeMs;
  for (const f of manifest.files) if (!existsSync(path.join(dir, f))) return false;
  for (const input of manifest.inputs) {
    const s = await stat(input).catch(() => null);
    if (!s || s.mtimeMs > built) return false;
  }
  // A source added since (a new page) is not among the inputs: the client folder's own mtime catches it.
  return (await newestDirTime(DASHBOARD_CLIENT_DIR)) <= built;
}

async function newestDirTime(dir: string): Promise<number> {
  let newest = (await stat(dir)).mtimeMs;
  for (const e of await readdir(dir, { withFileTypes: true })) if (e.isDirectory()) newest = Math.max(newest, await newestDirTime(path.join(dir, e.name)));
  return newest;
}

async function writeAtomic(file: string, contents: Uint8Array | string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, contents);
  await rename(tmp, file);
}

/** Builds (when stale) and returns the manifest. About 150 ms with esbuild on this machine. */
export async function ensureDashboardBuild(options: { dir?: string; force?: boolean } = {}): Promise<{ dir: string; manifest: DashboardManifest; built: boolean }> {
  const dir = options.dir ?? DASHBOARD_BUILD_DIR;
  const existing = await readManifest(dir);
  if (existing && !options.force && (await isFresh(dir, existing))) return { dir, manifest: existing, built: false };
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: { app: ENTRY },
    outdir: dir,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(DASHBOARD_CLIENT_DIR, 'tsconfig.json'),
    metafile: true,
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const out of result.outputFiles) {
    const name = path.relative(dir, out.path);
    files.push(name);
    if (!existsSync(out.path)) await writeAtomic(out.path, out.contents);
  }
  const outputs = Object.entries(result.metafile.outputs);
  const entry = outputs.find(([, o]) => o.entryPoint !== undefined && o.entryPoint.endsWith('main.tsx'));
  if (!entry) throw new Error('the dashboard build produced no entry script');
  const js = path.relative(dir, path.resolve(entry[0]));
  const css = entry[1].cssBundle ? path.relative(dir, path.resolve(entry[1].cssBundle)) : '';
  const inputs = Object.keys(result.metafile.inputs)
    .filter((i) => !i.includes('node_modules'))
    .map((i) => path.resolve(i));
  const manifest: DashboardManifest = { js, css, files, inputs, builtAt: new Date().toISOString() };
  await writeAtomic(path.join(dir, MANIFEST), JSON.stringify(manifest, null, 2));
  return { dir, manifest, built: true };
}
