import { createHash } from 'node:crypto';

const MAX = 63;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
/** Names that other environments use: a branch must never take them over. */
const RESERVED = /^(production|pr-\d+)$/;

/**
 * The environment name of a branch in local mode: a DNS label (RFC 1123, at most 63 characters) that is stable
 * (same branch, same name) and unique (different branches, different names). A branch name that already is such a
 * label is used as is; any other gets a readable prefix plus 8 hex characters of the name's SHA-256, because a
 * lossy mapping (`feature/x` and `feature-x`, upper case, unicode, truncation) must not merge two branches.
 */
export function branchSlug(branch: string): string {
  if (DNS_LABEL.test(branch) && branch.length <= MAX && !RESERVED.test(branch)) return branch;
  const hash = createHash('sha256').update(branch, 'utf8').digest('hex').slice(0, 8);
  const readable = branch
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX - hash.length - 1)
    .replace(/-+$/, '');
  return readable ? `${readable}-${hash}` : `b-${hash}`;
}
