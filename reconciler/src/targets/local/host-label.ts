/**
 * The router's name for an environment: a DNS label (RFC 1123, at most 63 characters) derived from its identity
 * (tenant, repository, app, environment), so that two tenants' `hello-api`/`production` never share a URL. It is a
 * readable prefix plus 16 hex characters of an HMAC of the identity: stable for the environment's life (and across
 * restarts, the key is kept in the target's state dir), different for every identity, and not guessable from
 * sequential ids by someone who does not hold the key.
 */
import { createHmac } from 'node:crypto';

export interface LabelIdentity {
  tenantId: number;
  repositoryId: number;
  app: string;
  name: string;
}

const MAX_LABEL = 63;
const HASH_CHARS = 16;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** `<env>--<app>`, the friendly label the local owner's environments keep when it is a DNS label; else null. */
export function friendlyLabel(app: string, name: string): string | null {
  const label = `${name}--${app}`.toLowerCase();
  return label.length <= MAX_LABEL && DNS_LABEL.test(label) ? label : null;
}

/** The identity, unambiguously: ids are numbers and app and environment names are DNS labels (no `/`). */
export const identityKey = (id: LabelIdentity): string => `${id.tenantId}/${id.repositoryId}/${id.app}/${id.name}`;

/** `<readable prefix>-<16 hex>`: the label every environment has, whoever its tenant. */
export function environmentLabel(id: LabelIdentity, key: Buffer): string {
  const hash = createHmac('sha256', key).update(identityKey(id)).digest('hex').slice(0, HASH_CHARS);
  const readable = `${id.name}--${id.app}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, MAX_LABEL - HASH_CHARS - 1)
    .replace(/-+$/, '');
  return readable ? `${readable}-${hash}` : `e-${hash}`;
}

/** True for a label this module can produce (what the router accepts as a host or first path segment). */
export const isLabel = (value: string): boolean => value.length <= MAX_LABEL && DNS_LABEL.test(value);
