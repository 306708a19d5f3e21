/**
 * Whether an app keeps files in its data dir (SQLite databases, feature flags, event stores): then the operator gives
 * it a PersistentVolumeClaim kept across rollouts, and a Recreate strategy (the runtime holds its SQLite files
 * alone: the old pod stops before the new one starts, see docs/runtime.md "Data that survives").
 */
import type { WorkflowFile } from '@wharf/contracts';
import { parseAllDocuments } from 'yaml';

/** Module types whose state lives in files of the data dir. */
export const FILE_STORAGE_MODULES: ReadonlySet<string> = new Set(['storage.sqlite', 'featureflag.service', 'eventstore.service', 'storage.local', 'iac.state']);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function moduleKeepsFiles(m: unknown): boolean {
  if (!isRecord(m) || typeof m.type !== 'string') return false;
  if (FILE_STORAGE_MODULES.has(m.type)) return true;
  if (m.type !== 'database.workflow') return false;
  const driver = isRecord(m.config) ? m.config.driver : undefined;
  return typeof driver !== 'string' || /sqlite/i.test(driver);
}

export function usesFileStorage(files: readonly WorkflowFile[]): boolean {
  for (const file of files) {
    if (!/\.ya?ml$|\.json$/i.test(file.path)) continue;
    // Bounded: aliases cannot blow the document up (the source validated these files; a hand-made resource may not be).
    for (const doc of parseAllDocuments(file.content)) {
      if (doc.errors.length) continue;
      const body: unknown = doc.toJS({ maxAliasCount: 100 });
      const modules = isRecord(body) ? body.modules : undefined;
      if (Array.isArray(modules) && modules.some(moduleKeepsFiles)) return true;
    }
  }
  return false;
}
