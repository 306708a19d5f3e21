/**
 * One document, applied: the WorkflowApp deployed to the environment's guest (created on first use), or the guest torn
 * down for a teardown document; the outcome as the report the control plane gets. Reports are deterministic (no
 * times in them), so the same outcome reported twice changes nothing there.
 */
import type { AgentDocument, AgentStatusReport } from '@wharf/contracts';
import { AgentError } from '../errors.js';
import type { EnvironmentAgent } from '../environment/environment-agent.js';
import { environmentKey, type EnvironmentRef } from '../proxmox/guest-identity.js';
import type { RuntimePackage } from '../runtime-package/runtime-package.js';
import type { StateStore } from '../state/agent-state.js';

export const uidOf = (environmentId: number) => `environment:${environmentId}`;

export function refOf(doc: AgentDocument, state: StateStore): EnvironmentRef {
  const uid = uidOf(doc.environmentId);
  const spec = doc.workflowApp?.spec;
  if (spec) return { app: spec.app, env: spec.environment, uid };
  const known = Object.values(state.read().environments).find((e) => e.uid === uid);
  return { app: known?.app ?? 'unknown', env: known?.env ?? String(doc.environmentId), uid };
}

function guestOf(state: StateStore, ref: EnvironmentRef): AgentStatusReport['guest'] {
  const e = state.read().environments[environmentKey(ref)];
  return e?.guest ? { kind: e.guest.kind, node: e.guest.node, vmid: e.guest.vmid, ...(e.address ? { address: e.address } : {}) } : undefined;
}

export function failureReport(doc: AgentDocument, state: StateStore, err: AgentError): AgentStatusReport {
  const ref = refOf(doc, state);
  const e = state.read().environments[environmentKey(ref)];
  const guest = guestOf(state, ref);
  return {
    environmentId: doc.environmentId,
    documentHash: doc.hash,
    exists: e?.applied !== undefined,
    healthy: false,
    digest: e?.applied?.digest ?? null,
    url: e?.applied?.url ?? null,
    ...(guest ? { guest } : {}),
    error: { reason: err.reason, message: err.message.slice(0, 4000), retry: err.retry },
  };
}

export async function applyDocument(doc: AgentDocument, deps: { environments: EnvironmentAgent; state: StateStore; runtime: () => Promise<RuntimePackage> }): Promise<AgentStatusReport> {
  const ref = refOf(doc, deps.state);
  if (doc.deleting) {
    await deps.environments.teardown(ref);
    return { environmentId: doc.environmentId, documentHash: doc.hash, deleted: true, exists: false, healthy: false, digest: null, url: null };
  }
  const app = doc.workflowApp;
  if (!app) throw new AgentError('InvalidRequest', `document ${doc.hash} of environment ${doc.environmentId} has no WorkflowApp`);
  const spec = app.spec;
  if (spec.runtime.command?.length) {
    throw new AgentError('UnsupportedRuntime', `runtime.command (${spec.runtime.command.join(' ')}) is not supported by the agent target: its guests run Wharf's reference runtime. Remove it from the app's manifest, or use another target.`);
  }
  if (doc.unresolved?.length) {
    throw new AgentError('SecretMissing', `secrets for ${doc.unresolved.join(', ')} could not be resolved from the tenant's store: add them, then redeploy`);
  }
  const pkg = await deps.runtime();
  const env = { ...(doc.environment ?? {}), WHARF_APP: spec.app, WHARF_ENVIRONMENT: spec.environment, WHARF_DIGEST: spec.version.digest };
  const result = await deps.environments.deploy(
    ref,
    { digest: spec.version.digest, bundle: pkg.bundle, support: pkg.support, configs: spec.files.map((f) => ({ name: f.path, content: f.content })), env },
    doc.hash,
  );
  const guest = guestOf(deps.state, ref);
  return {
    environmentId: doc.environmentId,
    documentHash: doc.hash,
    exists: true,
    healthy: true,
    digest: spec.version.digest,
    url: result.url,
    releaseId: result.releaseId,
    ...(guest ? { guest } : {}),
  };
}
