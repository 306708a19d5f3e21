/**
 * Validates the workflow config files of one app together: YAML and limits per file, the config schema
 * per document (per-type module and step configs included), then the semantic checks that span files.
 * Never throws: every problem becomes a diagnostic.
 */
import { CODES } from '../codes.js';
import type { Diagnostic } from '../diagnostic.js';
import { LIMITS, type Limits } from '../limits.js';
import { compareDiagnostics, diagnosticAt } from '../yaml/diagnostic-at.js';
import { type YamlParser, parseYamlFile } from '../yaml/parse-yaml-file.js';
import { checkConfigSchema } from './check-config-schema.js';
import { runSemanticChecks } from './semantic/run-semantic-checks.js';
import type { ConfigDocument } from './config-document.js';
import { type ConfinementOptions, checkConfinement } from './confinement/check-confinement.js';

export interface WorkflowSourceFile {
  path: string;
  content: string;
}

export interface ValidateWorkflowOptions extends ConfinementOptions {
  /** Override some limits (tests, or a stricter deployment). */
  limits?: Partial<Limits>;
  /** Which YAML parser reads the files first (see parse-yaml-file.ts); results are the same. */
  parser?: YamlParser;
}

export interface WorkflowValidation {
  diagnostics: Diagnostic[];
  /** Parsed YAML values, one per document, aliases and merge keys resolved: hash these into the digest. */
  documents: { path: string; value: unknown }[];
}

export function validateWorkflowFiles(
  files: readonly WorkflowSourceFile[],
  options: ValidateWorkflowOptions = {},
): WorkflowValidation {
  const limits: Limits = { ...LIMITS, ...options.limits };
  const diagnostics: Diagnostic[] = [];
  const documents: { path: string; value: unknown }[] = [];
  try {
    if (files.length > limits.maxFilesPerApp) {
      diagnostics.push(
        diagnosticAt(
          files[limits.maxFilesPerApp]?.path ?? '',
          undefined,
          undefined,
          CODES.TooManyFiles,
          `The app has ${files.length} workflow files, over the limit of ${limits.maxFilesPerApp}: combine files or split the app.`,
        ),
      );
      return { diagnostics, documents };
    }
    const configs: ConfigDocument[] = [];
    for (const file of files) {
      const parsed = parseYamlFile(file.path, file.content, limits, { parser: options.parser });
      diagnostics.push(...parsed.diagnostics);
      if (parsed.diagnostics.length === 0 && parsed.documents.length === 0) {
        diagnostics.push(
          diagnosticAt(file.path, undefined, undefined, CODES.EmptyDocument, 'This file holds no YAML document: add modules or remove the file from the app.'),
        );
      }
      parsed.documents.forEach((document, index) => {
        if (index === 1) {
          diagnostics.push(
            diagnosticAt(
              file.path,
              document.positions,
              document.positions.headRange([]),
              CODES.ExtraDocument,
              'The Workflow engine reads only the first YAML document of a file and ignores this one: move it into a file of its own and list that file in wharf.yaml.',
            ),
          );
        }
        if (!document.ok) return;
        documents.push({ path: file.path, value: document.value });
        const config: ConfigDocument = {
          file: file.path,
          index,
          positions: document.positions,
          value: document.value,
        };
        diagnostics.push(...checkConfigSchema(config));
        configs.push(config);
      });
    }
    diagnostics.push(...runSemanticChecks(configs));
    diagnostics.push(...checkConfinement(configs, options));
  } catch (err) {
    diagnostics.push(
      diagnosticAt(
        files[0]?.path ?? '',
        undefined,
        undefined,
        CODES.YamlSyntax,
        `Validation stopped on an internal error (please report it): ${String(err)}`,
      ),
    );
  }
  return { diagnostics: diagnostics.sort(compareDiagnostics), documents };
}
