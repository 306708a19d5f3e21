/**
 * The validation API of @wharf/contracts that ingestion uses, in one place. Source never validates by itself: it
 * reads files, refuses what cannot be read, and hands the rest to these functions.
 */
export {
  appFileDiagnostics,
  appFilePaths,
  defaultManifest,
  LIMITS,
  MANIFEST_FILENAMES,
  parseManifest,
  validateWorkflowFiles,
  type Manifest,
  type ManifestApp,
} from '@wharf/contracts';
