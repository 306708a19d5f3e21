/**
 * `wharf validate [path…]`: validates a repository (its wharf.yaml and every app's files), or single
 * workflow config files, and prints the findings in the eslint/tsc style, as JSON, or as GitHub Checks
 * annotations. Exit code 0 when there are no errors, 1 when there are, 2 on a usage error.
 */
import type { Dirent } from 'node:fs';
import { open, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  CODES,
  type Diagnostic,
  LIMITS,
  MANIFEST_FILENAMES,
  appFileDiagnostics,
  appFilePaths,
  defaultManifest,
  fileDiagnostic,
  formatDiagnostic,
  looksLikeWorkflowConfig,
  parseManifest,
  validateWorkflowFiles,
} from '@wharf/contracts';

export const VALIDATE_FORMATS = ['human', 'json', 'github'] as const;
export type ValidateFormat = (typeof VALIDATE_FORMATS)[number];

export interface ValidateIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  cwd: string;
}

export const validateSummary = 'check workflow configs and wharf.yaml, with errors at file:line:column';

export const validateHelp = `Usage: wharf validate [path…] [--format human|json|github]

Validates Workflow apps without deploying anything. Each path may be:
  a directory    a repository: its wharf.yaml (or .wharf.yaml) and every app's files,
                 or without a manifest its root workflow.yaml or app.yaml, or else every
                 YAML file in it that is a workflow config, each on its own (other YAML
                 files are skipped with a note)
  wharf.yaml     the same, for the repository that holds it
  a file         one workflow config file, validated on its own
Without a path, the current directory.

Options:
  -f, --format   human (default): path:line:col  severity  message  code, then a summary
                 json: {"files", "diagnostics", "errors", "warnings"}
                 github: Checks API annotation objects
  -h, --help     this text

Exit status: 0 no errors (warnings allowed), 1 errors found, 2 usage error.
Every code is explained in docs/diagnostics.md.
`;

/** Directories never searched for app files. */
const SKIP_DIRS = new Set(['.git', 'node_modules', '.wharf', '.tsbuild']);
const MAX_LISTED_FILES = 20_000;

interface Report {
  files: string[];
  diagnostics: Diagnostic[];
}

class UsageError extends Error {}

export async function runValidate(argv: string[], io: ValidateIO): Promise<number> {
  let format: ValidateFormat;
  let paths: string[];
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { format: { type: 'string', short: 'f', default: 'human' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.stdout(validateHelp);
      return 0;
    }
    const requested = values.format ?? 'human';
    const known = VALIDATE_FORMATS.find((f) => f === requested);
    if (!known) throw new UsageError(`unknown format '${requested}' (use ${VALIDATE_FORMATS.join(', ')})`);
    format = known;
    paths = positionals.length > 0 ? positionals : ['.'];
  } catch (err) {
    io.stderr(`wharf validate: ${err instanceof Error ? err.message : String(err)}\n\n${validateHelp}`);
    return 2;
  }
  const report: Report = { files: [], diagnostics: [] };
  for (const given of paths) {
    const absolute = path.resolve(io.cwd, given);
    const info = await stat(absolute).catch(() => undefined);
    if (!info) {
      io.stderr(`wharf validate: no such file or directory: ${given}\n`);
      return 2;
    }
    const display = (p: string) => toPosix(path.relative(io.cwd, p) || '.');
    if (info.isDirectory()) await validateRepository(absolute, display, report);
    else if ((MANIFEST_FILENAMES as readonly string[]).includes(path.basename(absolute))) {
      await validateRepository(path.dirname(absolute), display, report);
    } else {
      const file = await readWorkflowFile(absolute, display(absolute), report);
      if (file) report.diagnostics.push(...validateWorkflowFiles([file], { filesRoot: path.posix.dirname(file.path) }).diagnostics);
    }
  }
  const errors = report.diagnostics.filter((d) => d.severity === 'error').length;
  io.stdout(render(format, report));
  return errors > 0 ? 1 : 0;
}

const toPosix = (p: string): string => p.split(path.sep).join('/');

async function readWorkflowFile(absolute: string, display: string, report: Report): Promise<{ path: string; content: string } | undefined> {
  report.files.push(display);
  const size = await stat(absolute).then((s) => s.size, () => 0);
  if (size > LIMITS.maxFileBytes) {
    report.diagnostics.push(fileDiagnostic(display, CODES.FileTooLarge, `File is ${size} bytes, over the limit of ${LIMITS.maxFileBytes}: split it into several files listed in wharf.yaml.`));
    return undefined;
  }
  try {
    return { path: display, content: await readFile(absolute, 'utf8') };
  } catch (err) {
    report.diagnostics.push(fileDiagnostic(display, CODES.UnreadableFile, `The file cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}): check that it exists and is readable.`));
    return undefined;
  }
}

/** Repository-relative POSIX paths of every file under root, skipping VCS and dependency folders. */
async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const queue = [''];
  while (queue.length > 0 && out.length < MAX_LISTED_FILES) {
    const dir = queue.shift() as string;
    const entries: Dirent[] = await readdir(path.join(root, dir), { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) queue.push(rel);
      } else if (entry.isFile()) out.push(rel);
    }
  }
  return out;
}

async function validateRepository(root: string, display: (p: string) => string, report: Report): Promise<void> {
  const all = await listFiles(root);
  const manifestName = MANIFEST_FILENAMES.find((name) => all.includes(name));
  let manifest = undefined as ReturnType<typeof defaultManifest>;
  const manifestDisplay = manifestName ? display(path.join(root, manifestName)) : undefined;
  if (manifestName && manifestDisplay) {
    const file = await readWorkflowFile(path.join(root, manifestName), manifestDisplay, report);
    if (!file) return;
    const parsed = parseManifest(manifestDisplay, file.content);
    report.diagnostics.push(...parsed.diagnostics);
    manifest = parsed.manifest;
    if (!manifest) return;
  } else {
    manifest = defaultManifest(all.filter((p) => !p.includes('/')));
    const file = manifest?.apps[0]?.files[0];
    const text = file ? await readFile(path.join(root, file), 'utf8').catch(() => undefined) : undefined;
    if (file && text !== undefined && !looksLikeWorkflowConfig(text)) {
      skipNotAConfig(display(path.join(root, file)), report);
      manifest = undefined;
    }
    if (!manifest) {
      await validateLooseConfigs(root, all.filter((p) => p !== file), display, report);
      return;
    }
  }
  for (const app of manifest.apps) {
    const matched = appFilePaths(app, all);
    const problems = appFileDiagnostics(manifestDisplay ?? display(root), app, matched, LIMITS.maxFilesPerApp);
    report.diagnostics.push(...problems);
    if (problems.length > 0) continue;
    const files: { path: string; content: string }[] = [];
    for (const rel of matched) {
      const file = await readWorkflowFile(path.join(root, rel), display(path.join(root, rel)), report);
      if (file) files.push(file);
    }
    report.diagnostics.push(...validateWorkflowFiles(files, { filesRoot: display(root) }).diagnostics);
  }
}

const YAML_FILE = /\.ya?ml$/i;
/** How much of a file is read to tell whether it is a workflow config. */
const HEAD_BYTES = 65_536;

async function readHead(absolute: string): Promise<string> {
  const handle = await open(absolute, 'r').catch(() => undefined);
  if (!handle) return '';
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

function skipNotAConfig(display: string, report: Report): void {
  report.files.push(display);
  report.diagnostics.push({
    ...fileDiagnostic(display, CODES.NotAnAppConfig, 'Skipped: this YAML file has no modules:, workflows:, pipelines: or triggers:, so it is not a Workflow app config.'),
    severity: 'info',
  });
}

/** A directory without a manifest or default app: each YAML file that is a workflow config, on its own. */
async function validateLooseConfigs(root: string, all: string[], display: (p: string) => string, report: Report): Promise<void> {
  const yamlFiles = all.filter((p) => YAML_FILE.test(p));
  let validated = 0;
  for (const rel of yamlFiles) {
    const absolute = path.join(root, rel);
    if (!looksLikeWorkflowConfig(await readHead(absolute))) {
      skipNotAConfig(display(absolute), report);
      continue;
    }
    const file = await readWorkflowFile(absolute, display(absolute), report);
    validated++;
    if (file) report.diagnostics.push(...validateWorkflowFiles([file], { filesRoot: display(root) }).diagnostics);
  }
  if (validated === 0) {
    const where = display(root);
    report.files.push(where);
    report.diagnostics.push(
      fileDiagnostic(
        where,
        CODES.NoManifest,
        `No ${MANIFEST_FILENAMES[0]}, no workflow.yaml or app.yaml, and no YAML file with modules: or pipelines: in ${where}: add a manifest, or name the files to validate.`,
      ),
    );
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function render(format: ValidateFormat, report: Report): string {
  const errors = report.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = report.diagnostics.filter((d) => d.severity === 'warning').length;
  const files = [...new Set(report.files)];
  switch (format) {
    case 'json':
      return `${JSON.stringify({ files, diagnostics: report.diagnostics, errors, warnings }, null, 2)}\n`;
    case 'github':
      return `${JSON.stringify(report.diagnostics.map(toAnnotation), null, 2)}\n`;
    default: {
      const lines = report.diagnostics.map(formatDiagnostic);
      const problems = report.diagnostics.filter((d) => d.severity !== 'info');
      const notes = report.diagnostics.length - problems.length;
      const withProblems = new Set(problems.map((d) => d.file)).size;
      const noted = notes > 0 ? ` ${plural(notes, 'note')}.` : '';
      const summary =
        problems.length === 0
          ? `No problems in ${plural(files.length, 'file')}.${noted}`
          : `${errors > 0 ? '✖' : '⚠'} ${plural(problems.length, 'problem')} (${plural(errors, 'error')}, ${plural(warnings, 'warning')}) in ${withProblems} of ${plural(files.length, 'file')}.${noted}`;
      return `${lines.length > 0 ? `${lines.join('\n')}\n\n` : ''}${summary}\n`;
    }
  }
}

/** A GitHub Checks API annotation; columns only on single-line ranges, as the API requires. */
export function toAnnotation(d: Diagnostic): Record<string, string | number> {
  const annotation: Record<string, string | number> = {
    path: d.file,
    start_line: d.line,
    end_line: Math.max(d.line, d.endLine),
  };
  if (d.endLine === d.line) {
    annotation.start_column = d.column;
    annotation.end_column = Math.max(d.column, d.endColumn);
  }
  annotation.annotation_level = d.severity === 'error' ? 'failure' : d.severity === 'warning' ? 'warning' : 'notice';
  annotation.title = d.code;
  annotation.message = d.message;
  return annotation;
}
