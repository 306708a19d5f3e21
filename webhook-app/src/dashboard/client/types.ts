/** The API's resources as the page reads them (the shapes of contracts' API_SCHEMAS). */
import type { Condition, EnvironmentStateWord, Permission, Role } from '@wharf/contracts/browser';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Environment {
  id: number;
  repositoryId: number;
  app: string;
  name: string;
  kind: 'production' | 'preview';
  target: string;
  state: { word: EnvironmentStateWord; reason: string | null; message: string; text: string };
  version: { running: string | null; runningDigest: string | null; desired: string | null; desiredDigest: string | null };
  generation: number;
  observedGeneration: number;
  url: string | null;
  suspended: boolean;
  deletionRequested: boolean;
  driftMode: string;
  conditions: Condition[];
  createdAt: string;
  updatedAt: string;
  lastReconciledAt: string | null;
}

export interface Rollout {
  id: number;
  environmentId: number;
  generation: number;
  action: string;
  result: 'in_progress' | 'succeeded' | 'failed' | 'superseded';
  reason: string | null;
  message: string | null;
  sha: string | null;
  subject: string | null;
  rollbackSha: string | null;
  rollbackSubject: string | null;
  description: string;
  startedAt: string;
  finishedAt: string | null;
}

export interface Organization {
  id: number;
  slug: string;
  name: string;
  plan: string;
  kind: string;
  role: Role | null;
  permissions: Permission[];
}

export interface SessionInfo {
  user: { id: number; login: string; name: string | null; kind: string };
  organizations: Organization[];
  csrfToken: string | null;
  expiresAt: string | null;
  via: 'browser' | 'cli' | 'local';
}

export interface Diagnostic {
  file?: string;
  line?: number;
  column?: number;
  severity?: string;
  code?: string;
  message?: string;
}

export interface Version {
  id: number;
  repositoryId: number;
  sha: string;
  parentSha: string | null;
  ref: string | null;
  author: string | null;
  message: string | null;
  committedAt: string | null;
  valid: boolean;
  reachable: boolean;
  createdAt: string;
  diagnostics: Diagnostic[];
  apps: { app: string; digest: string; valid: boolean; rollbackOfVersionId: number | null; diagnostics: Diagnostic[] }[];
}

export interface Repository {
  id: number;
  provider: string;
  fullName: string;
  defaultBranch: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  actorKind: string;
  action: string;
  subject: string | null;
  reason: string;
  details: Record<string, unknown>;
  requestId: string | null;
  sourceIp: string | null;
}

export interface Member {
  user: { id: number; login: string; name: string | null; kind: string };
  role: Role;
  createdAt: string;
}

export interface Invitation {
  id: number;
  role: Role;
  login: string | null;
  invitedBy: string;
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
  revokedAt: string | null;
  token?: string;
}

export interface ApiKey {
  id: number;
  name: string;
  prefix: string;
  scopes: string[];
  permissions: string[];
  repositoryIds: number[] | null;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  key?: string;
}

export interface PullRequest {
  repositoryId: number;
  repository: string;
  provider: string;
  number: number;
  state: string;
  title: string;
  headSha: string;
  headRef: string;
  baseRef: string;
  fork: boolean;
  draft: boolean;
  author: string | null;
  approval: 'not-needed' | 'approved' | 'needed';
  approvedBy: string | null;
  updatedAt: string;
  checks: { name: string; status: string | null; conclusion: string | null }[];
  previews: { id: number; app: string; name: string; url: string | null }[];
}

export interface Usage {
  plan: string;
  period: { start: string; end: string; elapsed: number };
  counts: { productionEnvironments: number; previewEnvironments: number; seats: number };
  usage: { deploys: number; productionEnvironmentHours: number; previewEnvironmentHours: number };
  days: { day: string; rollouts: number; failed: number }[];
}

export interface MetricsSeries {
  environmentId: number;
  intervalSeconds: number;
  points: { at: string; requests: number; errors: number }[];
  unavailable: string | null;
}

export interface LogLine {
  at: string;
  stream: string;
  line: string;
}
