/**
 * WorkflowApp wharf.dev/v1alpha1: the unit of desired state everywhere (Postgres, the CRD, the agent
 * protocol, the local target). The JSON Schema in schemas/workflow-app.schema.json is the source of truth;
 * these types are kept equal to it (issue 3 derives them from the schema).
 */
import type { Condition } from './conditions.js';

export const WORKFLOW_APP_API_VERSION = 'wharf.dev/v1alpha1' as const;
export const WORKFLOW_APP_KIND = 'WorkflowApp' as const;

export interface WorkflowFile {
  path: string;
  content: string;
}

export interface EnvVar {
  name: string;
  /** Plain value. Exactly one of value and secretRef. */
  value?: string;
  /** Secret by reference only: never a secret value in desired state. */
  secretRef?: { name: string; key: string };
}

export interface RuntimeSpec {
  /** argv of the runtime; config files are passed as `--config FILE` arguments. */
  command?: string[];
  /** Container image (kubernetes and agent targets). */
  image?: string;
}

export interface WorkflowAppSpec {
  app: string;
  environment: string;
  version: { sha: string; digest: string };
  files: WorkflowFile[];
  runtime: RuntimeSpec;
  replicas: number;
  resources?: { cpu?: string; memory?: string };
  env: EnvVar[];
}

export interface WorkflowAppStatus {
  observedGeneration?: number;
  observedDigest?: string;
  url?: string;
  conditions?: Condition[];
}

export interface WorkflowApp {
  apiVersion: typeof WORKFLOW_APP_API_VERSION;
  kind: typeof WORKFLOW_APP_KIND;
  metadata: { name: string; namespace?: string; generation?: number; labels?: Record<string, string> };
  spec: WorkflowAppSpec;
  status?: WorkflowAppStatus;
}
