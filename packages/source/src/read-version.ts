/**
 * Reads a commit into per-app results: the manifest, and for each app its files, diagnostics, digest and spec.
 * Apps whose files and manifest entry did not change since the base version are carried forward without reading or
 * validating anything. Only the folders the apps' globs start in are listed, and one commit reads at most
 * `maxTreeEntriesPerCommit` tree entries and `maxAppBytesPerCommit` bytes of app files (git/read-limits.ts).
 */
import { CODES, type Diagnostic, type WorkflowAppSpec } from '@wharf/contracts';
import { canonicalJson, sha256Digest } from './canonical-json.js';
import { fileDiagnostic } from './diagnostics.js';
import type { CommitInfo, GitReader, TreeFile } from './git/git-reader.js';
import { globRoots, listFilesUnder, type TreeBudget, treeBudget } from './git/list-app-files.js';
import {
  appFileDiagnostics,
  appFilePaths,
  defaultManifest,
  LIMITS,
  MANIFEST_FILENAMES,
  type Manifest,
  type ManifestApp,
  parseManifest,
  validateWorkflowFiles,
} from './validation.js';

export interface BaseVersion {
  id: number;
  sha: string;
  tree: string;
  manifest: Manifest | null;
  diagnostics: Diagnostic[];
  apps: Map<string, { digest: string; valid: boolean; diagnostics: Diagnostic[]; spec: unknown; carriedFromVersionId: number | null }>;
}

export interface AppResult {
  app: string;
  digest: string;
  valid: boolean;
  diagnostics: Diagnostic[];
  spec: WorkflowAppSpec | null;
  /** The version this result was carried from, when the app did not change. */
  carriedFromVersionId: number | null;
}

export interface VersionContent {
  manifest: Manifest | null;
  manifestDiagnostics: Diagnostic[];
  apps: AppResult[];
  /** Names of the apps whose files were read and validated for this commit. */
  validated: string[];
}

const hasError = (ds: readonly Diagnostic[]) => ds.some((d) => d.severity === 'error');

/** What reading one commit may still cost. */
interface CommitBudget {
  trees: TreeBudget;
  /** Bytes of app files that may still be read. */
  bytes: number;
}

/** Reads a blob as text or explains, as a diagnostic on the file, why it was not read. */
async function readFileText(reader: GitReader, file: TreeFile, budget?: CommitBudget): Promise<{ content?: string; diagnostic?: Diagnostic }> {
  const maxBytes = Math.min(LIMITS.maxFileBytes, budget?.bytes ?? Number.POSITIVE_INFINITY);
  const read = await reader.readText(file.oid, maxBytes);
  if (budget && read.kind !== 'too-large') budget.bytes -= read.size;
  switch (read.kind) {
    case 'text':
      return { content: read.content };
    case 'too-large':
      if (read.size <= LIMITS.maxFileBytes) {
        const limit = reader.limits.maxAppBytesPerCommit;
        return {
          diagnostic: fileDiagnostic(
            file.path,
            CODES.FileTooLarge,
            `${file.path} (${read.size} bytes) would take this commit's app files over ${limit} bytes in all: split the repository's apps or make them smaller. It was not read.`,
          ),
        };
      }
      return {
        diagnostic: fileDiagnostic(
          file.path,
          CODES.FileTooLarge,
          `${file.path} is ${read.size} bytes, over the limit of ${LIMITS.maxFileBytes}: split it into smaller files. It was not read.`,
        ),
      };
    case 'binary':
      return {
        diagnostic: fileDiagnostic(file.path, CODES.UnreadableFile, `${file.path} is a binary file, not YAML text: remove it from the app's files.`),
      };
    case 'not-utf8':
      return {
        diagnostic: fileDiagnostic(file.path, CODES.UnreadableFile, `${file.path} is not valid UTF-8: save it as UTF-8.`),
      };
  }
}

async function readManifest(
  reader: GitReader,
  commit: CommitInfo,
): Promise<{ manifest: Manifest | null; diagnostics: Diagnostic[] }> {
  const root = await reader.listRoot(commit.tree);
  const names = new Set(root.map((e) => e.path));
  const file = MANIFEST_FILENAMES.map((n) => root.find((e) => e.path === n)).find((e) => e !== undefined);
  if (file) {
    const read = await readFileText(reader, file);
    if (read.diagnostic) return { manifest: null, diagnostics: [read.diagnostic] };
    const parsed = parseManifest(file.path, read.content ?? '');
    return { manifest: parsed.manifest ?? null, diagnostics: parsed.diagnostics };
  }
  const fallback = defaultManifest([...names]);
  if (fallback) return { manifest: fallback, diagnostics: [] };
  return {
    manifest: null,
    diagnostics: [
      fileDiagnostic(
        MANIFEST_FILENAMES[0],
        CODES.NoManifest,
        `Commit ${commit.sha.slice(0, 7)} has no ${MANIFEST_FILENAMES.join(' or ')} and no workflow.yaml or app.yaml at the root: add a wharf.yaml that lists your apps.`,
      ),
    ],
  };
}

/** The part of the desired state that the digest covers: parsed documents (not their text) plus runtime settings. */
export function appDigest(app: ManifestApp, documents: readonly { path: string; value: unknown }[]): string {
  return sha256Digest(
    canonicalJson({
      files: documents.map((d) => ({ path: d.path, value: d.value })),
      runtime: app.runtime ?? {},
      replicas: app.replicas,
      env: app.env ?? [],
    }),
  );
}

async function readApp(
  reader: GitReader,
  commit: CommitInfo,
  app: ManifestApp,
  manifestFile: string,
  budget: CommitBudget,
): Promise<AppResult> {
  const listed = await listFilesUnder(reader, commit.tree, globRoots(app.files), budget.trees);
  const byPath = new Map(listed.files.map((f) => [f.path, f]));
  const paths = appFilePaths(app, [...byPath.keys()]);
  const files: { path: string; content: string }[] = [];
  // No file, more files than an app may have, or a repository too large to search: said against the manifest, and
  // nothing is read.
  const diagnostics: Diagnostic[] = listed.complete
    ? appFileDiagnostics(manifestFile, app, paths, LIMITS.maxFilesPerApp)
    : [
        fileDiagnostic(
          manifestFile,
          CODES.TooManyFiles,
          `App "${app.name}": finding its files (${app.files.map((f) => JSON.stringify(f)).join(', ')}) ${listed.why}: narrow its globs to the folders that hold its files.`,
        ),
      ];
  for (const p of diagnostics.length > 0 ? [] : paths) {
    const read = await readFileText(reader, byPath.get(p) as TreeFile, budget);
    if (read.diagnostic) diagnostics.push(read.diagnostic);
    else files.push({ path: p, content: read.content ?? '' });
  }
  const validation = validateWorkflowFiles(files);
  diagnostics.push(...validation.diagnostics);
  const digest = appDigest(app, validation.documents);
  const valid = !hasError(diagnostics);
  const spec: WorkflowAppSpec = {
    app: app.name,
    environment: '',
    version: { sha: commit.sha, digest },
    files,
    runtime: app.runtime ?? {},
    replicas: app.replicas,
    env: app.env ?? [],
  };
  return { app: app.name, digest, valid, diagnostics, spec: valid ? spec : null, carriedFromVersionId: null };
}

export async function readVersion(reader: GitReader, commit: CommitInfo, base: BaseVersion | null): Promise<VersionContent> {
  const changed = base ? await reader.changedPaths(base.tree, commit.tree) : null;
  // The manifest (or the default one) depends on root entries only: keep the base's while none changed.
  const rootChanged = !changed || changed.some((p) => !p.includes('/'));
  let manifest: Manifest | null;
  let manifestDiagnostics: Diagnostic[];
  if (base?.manifest && !rootChanged) {
    manifest = base.manifest;
    manifestDiagnostics = base.diagnostics.filter((d) => (MANIFEST_FILENAMES as readonly string[]).includes(d.file));
  } else {
    ({ manifest, diagnostics: manifestDiagnostics } = await readManifest(reader, commit));
  }
  const root = new Set((await reader.listRoot(commit.tree)).map((e) => e.path));
  const manifestFile = MANIFEST_FILENAMES.find((n) => root.has(n)) ?? MANIFEST_FILENAMES[0];
  const apps: AppResult[] = [];
  const validated: string[] = [];
  const budget: CommitBudget = { trees: treeBudget(reader.limits.maxTreeEntriesPerCommit), bytes: reader.limits.maxAppBytesPerCommit };
  for (const app of manifest?.apps ?? []) {
    const previous = base?.apps.get(app.name);
    const baseEntry = base?.manifest?.apps.find((a) => a.name === app.name);
    const unchanged =
      previous &&
      changed &&
      baseEntry &&
      canonicalJson(baseEntry) === canonicalJson(app) &&
      appFilePaths(app, changed).length === 0;
    if (unchanged && base) {
      apps.push({
        app: app.name,
        digest: previous.digest,
        valid: previous.valid,
        diagnostics: previous.diagnostics,
        spec: previous.spec as WorkflowAppSpec | null,
        carriedFromVersionId: previous.carriedFromVersionId ?? base.id,
      });
      continue;
    }
    apps.push(await readApp(reader, commit, app, manifestFile, budget));
    validated.push(app.name);
  }
  return { manifest, manifestDiagnostics, apps, validated };
}
