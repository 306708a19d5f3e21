/**
 * The one writer of environments' desired state. A valid app version becomes the environment's desired version (a
 * change of digest bumps generation and notifies); an invalid one leaves the environment on its last good version
 * with Stalled/InvalidVersion naming the sha and the first error. Branch heads (local mode, production), pull request
 * previews (with every secret reference stripped for a fork) and redeploys all come through here, and each deploy,
 * rollback and redeploy is written to the audit log in the same transaction.
 */
import {
  AUDIT_ACTIONS,
  type AuditEntry,
  type Condition,
  DEFAULT_DRIFT_MODE,
  DEFAULT_TARGET,
  type Diagnostic,
  type DriftMode,
  type EnvironmentKind,
  REASONS,
  setCondition,
  type WorkflowAppSpec,
} from '@wharf/contracts';
import { audit, type DatabasePool, type DatabaseTransactionConnection, desiredState, type repositories, scopeOf, type versions } from '@wharf/store';
import { describeDiagnostic, firstError } from './diagnostics.js';
import type { Manifest } from './validation.js';

export interface EnvironmentTarget {
  envName: string;
  kind: EnvironmentKind;
  branch: string | null;
  prNumber: number | null;
}

/** Who asked for a change of desired state, and why: written to the audit log with it. */
export interface Actor {
  /** `git:Ada <ada@example.com>`, `github:octocat`. */
  actor: string;
  /** Why; defaults to the version's commit subject. */
  reason?: string;
}

export interface DesiredChange {
  app: string;
  environment: string;
  environmentId: number;
  /** 'updated': new desired version (generation bumped); 'stalled': invalid version, desired kept; 'unchanged'. */
  outcome: 'updated' | 'stalled' | 'unchanged';
  generation?: number;
}

export interface DesiredOptions {
  /** A fork's preview: every secret reference is left out of the desired state, so no reconcile ever sees one. */
  stripSecrets?: boolean;
}

type AppResult = versions.VersionApp | { app: string; digest: null; valid: false; diagnostics: Diagnostic[]; spec: null; rollback_of_version_id?: null };

const subject = (version: versions.Version) => (version.message ?? '').split('\n')[0] ?? '';

/** The author of a commit as the audit log names people who deployed by pushing it. */
export const commitActor = (version: versions.Version): Actor => ({ actor: `git:${version.author ?? 'unknown'}` });

const invalidCondition = (sha: string, diagnostics: readonly Diagnostic[]): Omit<Condition, 'lastTransitionTime'> => {
  const first = firstError(diagnostics);
  return {
    type: 'Stalled',
    status: 'True',
    reason: REASONS.InvalidVersion,
    message: `version ${sha.slice(0, 7)} is invalid: ${first ? describeDiagnostic(first) : 'see its diagnostics'}`,
  };
};

const isStalledByInvalidVersion = (conditions: readonly Condition[]) =>
  conditions.some((c) => c.type === 'Stalled' && c.status === 'True' && c.reason === REASONS.InvalidVersion);

/** Clears the condition this module owns, leaving any other Stalled reason (quota, …) to its owner. */
const clearInvalid = (conditions: Condition[], sha: string, now: Date): Condition[] =>
  isStalledByInvalidVersion(conditions)
    ? setCondition(conditions, { type: 'Stalled', status: 'False', reason: REASONS.Recovered, message: `version ${sha.slice(0, 7)} is valid` }, now)
    : conditions;

/** The desired WorkflowApp spec of one app's version in one environment. */
function desiredSpec(app: versions.VersionApp, version: versions.Version, envName: string, options: DesiredOptions): WorkflowAppSpec {
  // version_apps.spec is written by ingestion from a validated version: a WorkflowAppSpec whenever the app is valid.
  const spec = app.spec as WorkflowAppSpec;
  return {
    ...spec,
    environment: envName,
    version: { sha: version.sha, digest: app.digest },
    env: options.stripSecrets ? (spec.env ?? []).filter((e) => !e.secretRef) : (spec.env ?? []),
  };
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * Sets one app's environment from one version, under the row lock. Used for branch heads and pull request previews
 * (`pr-<n>`, kind preview).
 */
export async function applyAppVersion(
  tx: DatabaseTransactionConnection,
  input: {
    repository: repositories.Repository;
    version: versions.Version;
    app: AppResult;
    target: EnvironmentTarget;
    manifestApp?: { target?: string; driftMode?: DriftMode };
    now: Date;
    actor: Actor;
    options?: DesiredOptions;
    /** The environment row, already locked by the caller (undefined: lock it here; null: there is none). */
    locked?: desiredState.DesiredEnvironment | null;
  },
): Promise<DesiredChange> {
  const { repository, version, app, target, now } = input;
  const scope = scopeOf(repository);
  const env = input.locked !== undefined ? input.locked : await desiredState.lockEnvironment(tx, scope, app.app, target.envName);
  const conditions = env?.conditions ?? [];
  const base = {
    tenantId: repository.tenant_id,
    repositoryId: repository.id,
    app: app.app,
    name: target.envName,
    kind: target.kind,
    branch: target.branch,
    prNumber: target.prNumber,
    target: input.manifestApp?.target ?? env?.target ?? DEFAULT_TARGET,
    driftMode: input.manifestApp?.driftMode ?? env?.drift_mode ?? DEFAULT_DRIFT_MODE,
  };
  if (app.valid && app.digest) {
    const next = clearInvalid(conditions, version.sha, now);
    const spec = desiredSpec(app, version, target.envName, input.options ?? {});
    if (env && env.desired_digest === app.digest && env.deletion_requested_at === null && sameJson((env.desired_spec as WorkflowAppSpec | null)?.env, spec.env)) {
      if (next !== conditions) await desiredState.writeConditions(tx, scope, env.id, next);
      return { app: app.app, environment: target.envName, environmentId: env.id, outcome: 'unchanged', generation: env.generation };
    }
    const written = await desiredState.writeDesired(tx, { ...base, versionId: version.id, digest: app.digest, spec, conditions: next });
    const rollbackOf = 'rollback_of_version_id' in app ? app.rollback_of_version_id : null;
    const entry: AuditEntry = {
      tenantId: repository.tenant_id,
      actor: input.actor.actor,
      action: rollbackOf ? AUDIT_ACTIONS.rollback : AUDIT_ACTIONS.deploy,
      subject: `environment:${written.id}`,
      reason: input.actor.reason ?? subject(version),
      details: {
        app: app.app,
        environment: target.envName,
        sha: version.sha,
        digest: app.digest,
        generation: written.generation,
        ...(rollbackOf ? { rollbackOfVersionId: rollbackOf } : {}),
        ...(input.options?.stripSecrets ? { secretsStripped: true } : {}),
      },
    };
    await audit.recordAudit(tx, [entry]);
    return { app: app.app, environment: target.envName, environmentId: written.id, outcome: 'updated', generation: written.generation };
  }
  const stalled = setCondition(conditions, invalidCondition(version.sha, app.diagnostics as Diagnostic[]), now);
  if (!env) {
    // First sight of this environment and its version is invalid: create it without a desired version, so that it
    // can say why.
    const written = await desiredState.writeDesired(tx, { ...base, versionId: null, digest: null, spec: null, conditions: stalled });
    return { app: app.app, environment: target.envName, environmentId: written.id, outcome: 'stalled', generation: written.generation };
  }
  await desiredState.writeConditions(tx, scope, env.id, stalled);
  return { app: app.app, environment: target.envName, environmentId: env.id, outcome: 'stalled', generation: env.generation };
}

/**
 * A branch head moved: every app of the version updates the branch's environment. An invalid manifest stalls the
 * branch's existing environments; apps gone from a valid manifest have their environment torn down.
 */
export async function applyBranchHead(
  pool: DatabasePool,
  input: {
    repository: repositories.Repository;
    version: versions.Version;
    apps: readonly versions.VersionApp[];
    target: EnvironmentTarget;
    now: Date;
  },
): Promise<DesiredChange[]> {
  const { repository, version, apps, target, now } = input;
  const manifest = version.manifest as Manifest | null;
  const actor = commitActor(version);
  return pool.transaction(async (tx) => {
    const changes: DesiredChange[] = [];
    // One query locks every app's environment of this branch.
    const existing = await desiredState.lockEnvironmentsNamed(tx, scopeOf(repository), target.envName);
    const byApp = new Map(existing.map((e) => [e.app, e]));
    for (const app of apps) {
      const manifestApp = manifest?.apps.find((a) => a.name === app.app);
      const locked = byApp.get(app.app) ?? null;
      changes.push(await applyAppVersion(tx, { repository, version, app, target, manifestApp, now, locked, actor }));
    }
    const names = new Set(apps.map((a) => a.app));
    for (const env of existing) {
      if (names.has(env.app) || env.branch !== target.branch) continue;
      if (!manifest) {
        const stalled = { app: env.app, digest: null, valid: false as const, diagnostics: version.diagnostics as Diagnostic[], spec: null };
        changes.push(await applyAppVersion(tx, { repository, version, app: stalled, target, now, locked: env, actor }));
      } else if (await desiredState.requestDeletion(tx, scopeOf(repository), env.id)) {
        changes.push({ app: env.app, environment: env.name, environmentId: env.id, outcome: 'updated', generation: env.generation + 1 });
      }
    }
    return changes;
  });
}

/**
 * Redeploy: a new generation of each live environment of a pull request's preview, at the same version, so that the
 * reconciler looks again at once and puts a missing, unhealthy or drifted runtime right.
 */
export async function redeployPreview(
  pool: DatabasePool,
  input: { repository: repositories.Repository; prNumber: number; actor: Actor },
): Promise<number> {
  const scope = scopeOf(input.repository);
  return pool.transaction(async (tx) => {
    const entries: AuditEntry[] = [];
    for (const env of await desiredState.lockPreviewEnvironments(tx, scope, input.prNumber)) {
      const generation = await desiredState.bumpGeneration(tx, scope, env.id);
      if (generation === null) continue;
      entries.push({
        tenantId: scope.tenantId,
        actor: input.actor.actor,
        action: AUDIT_ACTIONS.redeploy,
        subject: `environment:${env.id}`,
        reason: input.actor.reason ?? 'redeploy at the same version',
        details: { app: env.app, environment: env.name, generation, digest: env.desired_digest },
      });
    }
    await audit.recordAudit(tx, entries);
    return entries.length;
  });
}

/** The production branch a manifest names; the repository's default branch without a readable manifest. */
export function productionBranchOf(repository: repositories.Repository, manifest: Manifest | null): string {
  return manifest?.productionBranch ?? repository.default_branch;
}
