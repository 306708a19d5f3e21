/**
 * Names Wharf gives Kubernetes objects. Each is a valid DNS-1035 label (a Service's rule, the strictest), stable for
 * one environment and distinct for different ones: a readable part from app and environment, then a hash of the
 * inputs, so that `a-b`/`c` and `a`/`b-c` never share a name and a truncated name still tells environments apart.
 */
import { createHash } from 'node:crypto';
import { shortDigest } from './labels.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

function readable(text: string, max: number): string {
  const cleaned = text.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+/, '').slice(0, max).replace(/-+$/, '');
  return /^[a-z]/.test(cleaned) ? cleaned : `w${cleaned}`.slice(0, max).replace(/-+$/, '');
}

/** The WorkflowApp of an environment (and its Deployment, Service, route and volume claim): at most 53 characters. */
export function workflowAppName(app: string, environment: string): string {
  return `${readable(`${app}-${environment}`, 46)}-${sha256(`${app}\u0000${environment}`).slice(0, 6)}`;
}

/** One namespace per tenant: `<prefix>t<tenant id>`, e.g. `wharf-t42`. */
export function tenantNamespace(prefix: string, tenantId: number): string {
  return `${prefix}t${tenantId}`;
}

/** The immutable ConfigMap of one version: `<workflowapp>-<first 9 hex of the digest>`, at most 63 characters. */
export function configMapName(workflowApp: string, digest: string): string {
  return `${workflowApp}-${shortDigest(digest, 9)}`;
}

/**
 * The host label of an environment's URL: `<env>--<app>--t<tenant>` when it fits 63 characters, otherwise a readable
 * prefix and 16 hex characters of a hash of all three. The tenant is in every host, so two tenants never share one.
 */
export function hostLabel(tenantId: number, app: string, environment: string): string {
  const plain = `${environment}--${app}--t${tenantId}`;
  if (plain.length <= 63) return plain;
  return `${readable(plain, 46)}-${sha256(`${tenantId}\u0000${app}\u0000${environment}`).slice(0, 16)}`;
}
