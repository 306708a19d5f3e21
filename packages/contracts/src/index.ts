export const WHARF_API_GROUP = 'wharf.dev' as const;
export * from './diagnostic.js';
export * from './conditions.js';
export * from './workflow-app.js';
export * from './redact.js';
export * from './settings.js';
export * from './codes.js';
export { LIMITS, type Limits } from './limits.js';
export {
  MANIFEST_FILENAMES,
  DEFAULT_APP_FILENAMES,
  MANIFEST_SCHEMA_URL,
  parseManifest,
  defaultManifest,
  appFilePaths,
  appFileDiagnostics,
  type Manifest,
  type ManifestApp,
  type PreviewSettings,
  type CommentSettings,
} from './manifest/manifest.js';
export {
  validateWorkflowFiles,
  type ValidateWorkflowOptions,
  type WorkflowSourceFile,
  type WorkflowValidation,
} from './workflow/validate-workflow-files.js';
export { BUILTIN_TYPES } from './generated/module-catalogue.js';
export { manifestSchema, workflowAppSchema } from './generated/schemas.js';
export { validateWorkflowApp } from './workflow-app-validate.js';
export * from './plan/index.js';
export * from './runtime-protocol.js';
export * from './plans.js';
