/** Validates a WorkflowApp document (from the store, the agent API or the cluster) against its schema. */
import type { WorkflowApp } from './generated/workflow-app.js';
import { workflowAppSchema } from './generated/schemas.js';
import { createAjv, lazy } from './schema/create-ajv.js';

const validator = lazy(() => createAjv({ useDefaults: false }).compile<WorkflowApp>(workflowAppSchema));

/** Returns the problems as `path: message` lines; empty when the document is a valid WorkflowApp. */
export function validateWorkflowApp(value: unknown): { ok: boolean; errors: string[] } {
  const validate = validator();
  if (validate(value)) return { ok: true, errors: [] };
  return { ok: false, errors: (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`) };
}
