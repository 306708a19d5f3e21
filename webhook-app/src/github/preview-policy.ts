/**
 * Whether a pull request's head commit gets a preview. Pure: the handler gathers the facts, this decides, the
 * wharf/preview check explains. The settings are the base branch's, never the head's. Forks never deploy without a
 * maintainer's approval of this very commit (unless the base branch's manifest says `forkPolicy: always`), never with
 * secrets, and never with a runtime, target or replica count of their own.
 */
import type { PreviewSettings } from '@wharf/contracts';
import type { PreviewRefusal } from './render/render-preview-check.js';

export interface PreviewFacts {
  settings: PreviewSettings;
  fork: boolean;
  /** Apps whose runtime, target or replicas the fork's manifest changes (see runtimeChanges). */
  forkRuntimeChanges?: readonly string[];
  draft: boolean;
  headSha: string;
  /** The head commit a maintainer approved, if any. */
  approvedSha: string | null;
  invalidApps: string[];
  validApps: string[];
  /** Previews alive in this tenant, other than this pull request's. */
  activeInTenant: number;
  /** The organization's preview limit (its plan's, or an operator's override); null: no limit. */
  tenantLimit: number | null;
  /** The plan's name, when the limit is the plan's (the check then says how to upgrade). */
  plan?: string;
  /** Past due beyond the grace period: previews are paused until the organization pays. */
  billingPaused?: boolean;
  activeInRepository: number;
  suspended: boolean;
}

export type PreviewDecision = { deploy: true; apps: string[]; withSecrets: boolean } | { deploy: false; refusal: PreviewRefusal };

export function decidePreview(f: PreviewFacts): PreviewDecision {
  const refuse = (refusal: PreviewRefusal): PreviewDecision => ({ deploy: false, refusal });
  if (f.suspended) return refuse({ reason: 'suspended' });
  if (!f.settings.enabled) return refuse({ reason: 'disabled' });
  if (f.draft && !f.settings.drafts) return refuse({ reason: 'draft' });
  if (f.fork) {
    if (f.settings.forkPolicy === 'never') return refuse({ reason: 'fork-never' });
    if (f.forkRuntimeChanges?.length) return refuse({ reason: 'fork-runtime', apps: [...f.forkRuntimeChanges] });
    if (f.settings.forkPolicy === 'approval' && f.approvedSha !== f.headSha) {
      return refuse({ reason: 'fork-needs-approval', newCommit: f.approvedSha !== null });
    }
  }
  if (f.validApps.length === 0) return refuse({ reason: 'invalid', apps: f.invalidApps });
  if (f.billingPaused) return refuse({ reason: 'billing-past-due' });
  if (f.tenantLimit !== null && f.activeInTenant >= f.tenantLimit) return refuse({ reason: 'tenant-cap', limit: f.tenantLimit, ...(f.plan ? { plan: f.plan } : {}) });
  if (f.activeInRepository >= f.settings.maxConcurrent) return refuse({ reason: 'repository-cap', limit: f.settings.maxConcurrent });
  return { deploy: true, apps: f.validApps, withSecrets: !f.fork };
}
