/**
 * How a guest says who made it and for what. Every guest the agent creates carries three Proxmox tags:
 *   wharf                     managed by some Wharf agent
 *   wharf-a-<12 hex>          which agent (SHA-256 of its id): a restarted agent adopts exactly these
 *   wharf-e-<12 hex>          which environment (SHA-256 of its uid, `environment:<id>`, or of "app/env")
 * Tags are what /cluster/resources lists, so adoption is one call. PVE allows [a-z0-9_][a-z0-9_-+.]* in a tag,
 * hence hashes rather than names (names go in the guest's description and `name`). The agent never touches a guest
 * without both its agent tag and the environment's tag.
 */
import { createHash } from 'node:crypto';

export interface EnvironmentRef {
  app: string;
  env: string;
  /**
   * What makes the environment unique when app and name may repeat (two repositories of a tenant): the poll loop
   * passes `environment:<id>`. The environment key is derived from it when set.
   */
  uid?: string;
}

export const MANAGED_TAG = 'wharf' as const;

const short = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);

export const agentTag = (agentId: string) => `wharf-a-${short(agentId)}`;
export const environmentKey = (ref: EnvironmentRef) => short(ref.uid ?? `${ref.app}/${ref.env}`);
export const environmentTag = (ref: EnvironmentRef) => `wharf-e-${environmentKey(ref)}`;

export function guestTags(agentId: string, ref: EnvironmentRef): string[] {
  return [MANAGED_TAG, agentTag(agentId), environmentTag(ref)];
}

/** A DNS-safe guest name: `<env>-<app>`, lower case, at most 63 characters. */
export function guestName(ref: EnvironmentRef): string {
  const slug = `${ref.env}-${ref.app}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return (slug || 'wharf').slice(0, 63).replace(/-+$/, '');
}

export function parseTags(tags: string | undefined): string[] {
  return (tags ?? '').split(/[;,\s]+/).filter(Boolean);
}

/** True when the tags say this agent created the guest (for any environment). */
export function ownedBy(tags: string | undefined, agentId: string): boolean {
  const t = parseTags(tags);
  return t.includes(MANAGED_TAG) && t.includes(agentTag(agentId));
}

export function environmentKeyOf(tags: string | undefined): string | undefined {
  return parseTags(tags).find((t) => t.startsWith('wharf-e-'))?.slice('wharf-e-'.length);
}
