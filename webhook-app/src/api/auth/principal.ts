/** Who makes a request, and for which organization, with what they may do there. */
import type { Permission, Role } from '@wharf/contracts';

export type Principal =
  | {
      kind: 'key';
      keyId: number;
      tenantId: number;
      slug: string;
      plan: string;
      permissions: ReadonlySet<Permission>;
      repositoryIds: readonly number[] | null;
      /** `key:wharf_AbCd (ci deploy)` in the audit log. */
      actor: string;
    }
  | {
      kind: 'user';
      userId: number;
      login: string;
      via: 'browser' | 'cli' | 'local';
      sessionId: number | null;
      csrfSecret: string | null;
      actor: string;
    };

/** The organization a request acts for, and what the principal may do there. */
export interface Acting {
  tenantId: number;
  slug: string;
  plan: string;
  role: Role | null;
  permissions: ReadonlySet<Permission>;
  repositoryIds: readonly number[] | null;
}
