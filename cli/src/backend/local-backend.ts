/** The environment commands against the store of a Wharf on this machine (the operator's view: every tenant). */
import { userInfo } from 'node:os';
import { AUDIT_ACTIONS, plan, type WorkflowAppSpec } from '@wharf/contracts';
import { audit, type DatabasePool, desiredState, environmentViews, EVERY_TENANT, history } from '@wharf/store';
import { createRollbackPort, ProblemError, resolveRollback } from '@wharf/webhook-app';
import { CommandError, type EnvironmentBackend } from './backend.js';
import { findLogSocket } from './log-socket.js';

/** Who runs the CLI, as the audit log names them. */
export const cliActor = (): string => {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli:unknown';
  }
};

/** `where`: the command's directory and environment, to find the local target's log socket. */
export function localBackend(pool: DatabasePool, where: { cwd: string; env: Record<string, string | undefined> }): EnvironmentBackend {
  return {
    // The CLI is the operator's tool on the database it is given: it sees every tenant's environments.
    list: () => environmentViews.listEnvironments(pool, EVERY_TENANT),
    find: (name, app) => environmentViews.findEnvironmentsByName(pool, EVERY_TENANT, { name, ...(app ? { app } : {}) }),
    rollouts: (env, limit) => history.listRollouts(pool, { tenantId: env.tenant_id }, { name: env.name, app: env.app, limit }),
    diff: async (e) =>
      plan(
        { generation: e.generation, digest: e.desired_digest, spec: (e.desired_spec ?? null) as WorkflowAppSpec | null, deletionRequested: e.deletion_requested },
        { generation: e.observed_generation, digest: e.observed_digest, spec: (e.observed_spec ?? null) as WorkflowAppSpec | null, runtime: null },
      ),
    async setSuspended(e, suspended, reason) {
      const scope = { tenantId: e.tenant_id };
      await pool.transaction(async (tx) => {
        await desiredState.setSuspended(tx, scope, e.id, suspended);
        await audit.recordAudit(tx, [
          {
            tenantId: e.tenant_id,
            actor: cliActor(),
            action: suspended ? AUDIT_ACTIONS.suspend : AUDIT_ACTIONS.resume,
            subject: `environment:${e.id}`,
            reason,
            details: { app: e.app, environment: e.name },
            before: { suspended: e.suspended },
            after: { suspended },
          },
        ]);
      });
    },
    async logs(e, o) {
      if (e.target.startsWith('agent:')) return { error: `${e.app}/${e.name} runs on a pull agent (${e.target}); read its logs on the agent's host: wharf agent logs --config agent.yaml ${e.id}` };
      if (e.target !== 'local') return { error: `${e.app}/${e.name} runs on the ${e.target} target; wharf logs reads the local target's logs` };
      const socketPath = await findLogSocket(where.env, where.cwd);
      if (!socketPath) return { error: 'no local target is running here: start `wharf up` in this directory (or set WHARF_DATA_DIR), and run wharf logs as its user' };
      const query = new URLSearchParams({ ...(o.follow ? { follow: '1' } : {}), ...(o.lines !== undefined ? { tail: String(o.lines) } : {}) }).toString();
      return { socketPath, path: `/logs/${e.id}${query ? `?${query}` : ''}` };
    },
    async rollback(e, version, reason) {
      try {
        const plan = await resolveRollback(pool, { tenantId: e.tenant_id, repositoryIds: null }, e, version);
        const result = await createRollbackPort({ pool }).rollback({
          ...plan,
          environment: e,
          requestedBy: cliActor(),
          reason,
          audit: { tenantId: e.tenant_id, actor: cliActor(), actorKind: 'cli' },
          dedupeKey: `cli-rollback:${e.id}:${plan.version.sha}:${Date.now()}`,
        });
        return { mode: result.mode, commit: result.commit, branch: plan.branch, toSha: plan.version.sha };
      } catch (err) {
        if (err instanceof ProblemError) throw new CommandError(err.problem.detail ?? err.problem.title);
        throw err;
      }
    },
    // The pool belongs to whoever opened it.
    close: async () => undefined,
  };
}
