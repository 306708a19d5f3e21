/**
 * WorkflowApp wharf.dev/v1alpha1: the unit of desired state everywhere (Postgres, the CRD, the agent
 * protocol, the local target). schemas/workflow-app.schema.json is the source of truth; the types
 * below are generated from it (src/generated/workflow-app.ts) and re-exported here.
 */
import type { Condition } from './conditions.js';
import type { WorkflowAppCondition } from './generated/workflow-app.js';

export type {
  EnvVar,
  RuntimeSpec,
  WorkflowApp,
  WorkflowAppCondition,
  WorkflowAppSpec,
  WorkflowAppStatus,
  WorkflowFile,
} from './generated/workflow-app.js';

export const WORKFLOW_APP_API_VERSION = 'wharf.dev/v1alpha1' as const;
export const WORKFLOW_APP_KIND = 'WorkflowApp' as const;

// The schema's condition and conditions.ts' Condition must stay the same shape.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const conditionShapesAgree: Same<WorkflowAppCondition, Condition> = true;
void conditionShapesAgree;
