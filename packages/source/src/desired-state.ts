/**
 * Environments' desired state from versions. A valid app version becomes the environment's desired version (a
 * change of digest bumps generation and notifies); an invalid one leaves the environment on its last good version
 * with Stalled/InvalidVersion naming the sha and the first error.
 */
import { type Condition, type Diagnostic, type DriftMode, type EnvironmentKind, REASONS, setCondition, type WorkflowAppSpec } from '@wharf/contracts';
import { type DatabasePool, type DatabaseTransactionConnection, desiredState, type repositories, type versions } from '@wharf/store';
import { describeDiagnostic, firstError } from './diagnostics.js';
import type { Manifest } from './validation.js';

export interface EnvironmentTarget {
  envName: string;
  kind: EnvironmentKind;
  branch: string | null;
  prNumber: number | null;
}

export interface DesiredChange {
  app: string;
  environment: string;
  environmentId: number;
  /** 'updated': new desired version (generation bumped); 'stalled': invalid version, desired kept; 'unchanged'. */
  outcome: 'updated' | 'stalled' | 'unchanged';
  generation?: number;
}

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

/**
 * Sets one app's environment from one version, under the row lock. Used for branch heads and, by the GitHub App,
 * for pull requests (`pr-<n>`, kind preview).
 */
export async function applyAppVersion(
  tx: DatabaseTransactionConnection,
  input: {
    repository: repositories.Repository;
    version: versions.Version;
    app: versions.VersionApp | { app: string; digest: null; valid: false; diagnostics: Diagnostic[]; spec: null };
    target: EnvironmentTarget;
    manifestApp?: { target?: string; driftMode?: DriftMode };
    now: Date;
    /** The environment row, already locked by the caller (undefined: lock it here; null: there is none). */
    locked?: desiredState.DesiredEnvironment | null;
  },
): Promise<DesiredChange> {
  const { repository, version, app, target, now } = input;
  const env =
    input.locked !== undefined ? input.locked : await desiredState.lockEnvironment(tx, repository.id, app.app, target.envName);
  const conditions = (env?.conditions as Condition[] | undefined) ?? [];
  const base = {
    tenantId: repository.tenant_id,
    repositoryId: repository.id,
    app: app.app,
    name: target.envName,
    kind: target.kind,
    branch: target.branch,
    prNumber: target.prNumber,
    target: input.manifestApp?.target ?? env?.target ?? 'local',
    driftMode: input.manifestApp?.driftMode ?? env?.drift_mode ?? 'correct',
  };
  if (app.valid && app.digest) {
    const next = clearInvalid(conditions, version.sha, now);
    if (env && env.desired_digest === app.digest && env.deletion_requested_at === null) {
      if (next !== conditions) await desiredState.writeConditions(tx, env.id, next);
      return { app: app.app, environment: target.envName, environmentId: env.id, outcome: 'unchanged', generation: env.generation };
    }
    const spec: WorkflowAppSpec = {
      ...(app.spec as WorkflowAppSpec),
      environment: target.envName,
      version: { sha: version.sha, digest: app.digest },
    };
    const written = await desiredState.writeDesired(tx, {
      ...base,
      versionId: version.id,
      digest: app.digest,
      spec,
      conditions: next,
    });
    return { app: app.app, environment: target.envName, environmentId: written.id, outcome: 'updated', generation: written.generation };
  }
  const stalled = setCondition(conditions, invalidCondition(version.sha, app.diagnostics as Diagnostic[]), now);
  if (!env) {
    // First sight of this environment and its version is invalid: create it without a desired version, so that it
    // can say why.
    const written = await desiredState.writeDesired(tx, { ...base, versionId: null, digest: null, spec: null, conditions: stalled });
    return { app: app.app, environment: target.envName, environmentId: written.id, outcome: 'stalled', generation: written.generation };
  }
  await desiredState.writeConditions(tx, env.id, stalled);
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
  return pool.transaction(async (tx) => {
    const changes: DesiredChange[] = [];
    // One query locks every app's environment of this branch.
    const existing = await desiredState.lockEnvironmentsNamed(tx, repository.id, target.envName);
    const byApp = new Map(existing.map((e) => [e.app, e]));
    for (const app of apps) {
      const manifestApp = manifest?.apps.find((a) => a.name === app.app);
      const locked = byApp.get(app.app) ?? null;
      changes.push(await applyAppVersion(tx, { repository, version, app, target, manifestApp, now, locked }));
    }
    const names = new Set(apps.map((a) => a.app));
    for (const env of existing) {
      if (names.has(env.app) || env.branch !== target.branch) continue;
      if (!manifest) {
        const stalled = { app: env.app, digest: null, valid: false as const, diagnostics: version.diagnostics as Diagnostic[], spec: null };
        changes.push(await applyAppVersion(tx, { repository, version, app: stalled, target, now, locked: env }));
      } else if (await desiredState.requestDeletion(tx, env.id)) {
        changes.push({ app: env.app, environment: env.name, environmentId: env.id, outcome: 'updated', generation: env.generation + 1 });
      }
    }
    return changes;
  });
}

/** The production branch a manifest names; the repository's default branch without a readable manifest. */
export function productionBranchOf(repository: repositories.Repository, manifest: Manifest | null): string {
  return manifest?.productionBranch ?? repository.default_branch;
}
