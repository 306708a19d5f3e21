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

// Every Condition Wharf writes fits the schema's condition (whose reason is any string: a custom resource's status
// may carry reasons of other controllers, which parseConditions reads as `Unknown`).
type Fits<A, B> = [A] extends [B] ? true : false;
const conditionFitsSchema: Fits<Condition, WorkflowAppCondition> = true;
const schemaFitsCondition: Fits<Omit<WorkflowAppCondition, 'reason'>, Omit<Condition, 'reason'>> = true;
void conditionFitsSchema;
void schemaFitsCondition;
