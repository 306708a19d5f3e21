/**
 * The app manifest, wharf.yaml at the repository root: parsing with defaults, the default manifest for
 * repositories without one, and matching an app's file globs against the repository's paths.
 */
import picomatch from 'picomatch';
import { CODES } from '../codes.js';
import type { Diagnostic } from '../diagnostic.js';
import type { Manifest, ManifestApp } from '../generated/manifest.js';
import { manifestSchema, workflowAppSchema } from '../generated/schemas.js';
import { createAjv, lazy } from '../schema/create-ajv.js';
import { schemaErrorsToDiagnostics } from '../schema/schema-errors-to-diagnostics.js';
import { compareDiagnostics, diagnosticAt } from '../yaml/diagnostic-at.js';
import type { Positions } from '../yaml/positions.js';
import { parseYamlFile } from '../yaml/parse-yaml-file.js';

export type { CommentSettings, Manifest, ManifestApp, PreviewSettings } from '../generated/manifest.js';

export const MANIFEST_FILENAMES = ['wharf.yaml', '.wharf.yaml'] as const;
export const DEFAULT_APP_FILENAMES = ['workflow.yaml', 'app.yaml'] as const;
export const MANIFEST_SCHEMA_URL = 'https://wharf.dev/schemas/wharf-manifest.schema.json' as const;

const manifestValidator = lazy(() => {
  const ajv = createAjv({ useDefaults: true });
  ajv.addSchema(workflowAppSchema, 'workflow-app.schema.json');
  return ajv.compile<Manifest>(manifestSchema);
});

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseManifest(path: string, text: string): { manifest?: Manifest; diagnostics: Diagnostic[] } {
  const parsed = parseYamlFile(path, text);
  const diagnostics = [...parsed.diagnostics];
  const documents = parsed.documents.filter((d) => !d.ok || (d.value !== null && d.value !== undefined));
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  const first = documents[0];
  if (!first) {
    diagnostics.push(
      diagnosticAt(path, undefined, undefined, CODES.NotAMapping, `${path} is empty: list your apps under "apps:".`),
    );
    return { diagnostics };
  }
  for (const extra of documents.slice(1)) {
    diagnostics.push(
      diagnosticAt(
        path,
        extra.positions,
        extra.positions.valueRange([]),
        CODES.NotAMapping,
        'The manifest must be a single YAML document: merge this document into the first one.',
      ),
    );
  }
  if (!isRecord(first.value)) {
    diagnostics.push(
      diagnosticAt(
        path,
        first.positions,
        first.positions.valueRange([]),
        CODES.NotAMapping,
        'The manifest must be a mapping with an "apps:" list.',
      ),
    );
    return { diagnostics };
  }
  const value: unknown = structuredClone(first.value);
  const validate = manifestValidator();
  const valid = validate(value);
  if (!valid) {
    diagnostics.push(
      ...schemaErrorsToDiagnostics(validate.errors ?? [], {
        file: path,
        positions: first.positions,
        where: 'in the manifest',
        unknownKeySeverity: 'error',
      }),
    );
  }
  if (isRecord(value)) diagnostics.push(...checkManifestNames(path, first.positions, value));
  diagnostics.sort(compareDiagnostics);
  if (!valid || diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  return { manifest: value, diagnostics };
}

function checkManifestNames(path: string, positions: Positions, value: Record<string, unknown>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const apps = Array.isArray(value.apps) ? value.apps : [];
  const appNames = new Map<string, number>();
  apps.forEach((app, i) => {
    if (!isRecord(app)) return;
    if (typeof app.name === 'string') {
      const before = appNames.get(app.name);
      if (before !== undefined) {
        out.push(
          diagnosticAt(
            path,
            positions,
            positions.entryRange(['apps', i, 'name']),
            CODES.DuplicateApp,
            `App name "${app.name}" is already used by app ${before + 1}: give each app its own name.`,
          ),
        );
      } else appNames.set(app.name, i);
    }
    const envNames = new Set<string>();
    (Array.isArray(app.env) ? app.env : []).forEach((env, j) => {
      if (!isRecord(env) || typeof env.name !== 'string') return;
      if (envNames.has(env.name)) {
        out.push(
          diagnosticAt(
            path,
            positions,
            positions.entryRange(['apps', i, 'env', j, 'name']),
            CODES.DuplicateEnvVar,
            `Environment variable "${env.name}" is set twice in app "${String(app.name)}": keep one.`,
          ),
        );
      }
      envNames.add(env.name);
    });
  });
  return out;
}

const normalizePath = (p: string): string => p.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/^\/+/, '');

/**
 * The manifest of a repository without wharf.yaml: one app with defaults when workflow.yaml or app.yaml
 * is at the root (workflow.yaml wins when both are), otherwise undefined.
 */
export function defaultManifest(rootPaths: string[], name = 'app'): Manifest | undefined {
  const present = new Set(rootPaths.map(normalizePath));
  const file = DEFAULT_APP_FILENAMES.find((f) => present.has(f));
  if (!file) return undefined;
  const value: unknown = { apps: [{ name, files: [file] }] };
  const validate = manifestValidator();
  if (!validate(value)) throw new Error(`default manifest is invalid: ${JSON.stringify(validate.errors)}`);
  return value;
}

/** The repository paths that the app's files (paths or globs) match, sorted and without duplicates. */
export function appFilePaths(app: ManifestApp, allPaths: string[]): string[] {
  const patterns = app.files.map(normalizePath);
  const isMatch = picomatch(patterns, { dot: false });
  const matched = new Set<string>();
  for (const raw of allPaths) {
    const path = normalizePath(raw);
    if (patterns.includes(path) || isMatch(path)) matched.add(path);
  }
  return [...matched].sort();
}

/**
 * Diagnostics for an app whose files match nothing (WHARF142) or too many files (WHARF104), reported
 * against the manifest file.
 */
export function appFileDiagnostics(manifestPath: string, app: ManifestApp, matched: readonly string[], maxFiles: number): Diagnostic[] {
  if (matched.length === 0) {
    return [
      diagnosticAt(
        manifestPath,
        undefined,
        undefined,
        CODES.NoAppFiles,
        `App "${app.name}": no file in the repository matches ${app.files.map((f) => JSON.stringify(f)).join(', ')}: fix the paths or add the files.`,
      ),
    ];
  }
  if (matched.length > maxFiles) {
    return [
      diagnosticAt(
        manifestPath,
        undefined,
        undefined,
        CODES.TooManyFiles,
        `App "${app.name}" has ${matched.length} files, over the limit of ${maxFiles}: narrow its globs.`,
      ),
    ];
  }
  return [];
}
