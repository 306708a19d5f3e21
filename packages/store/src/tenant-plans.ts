/** tenants.plan, read by the kubernetes target to size a tenant's namespace (its ResourceQuota and LimitRange). */
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

/** The tenant's plan id as stored (`free` by default); null when there is no such tenant. */
export async function planOfTenant(db: CommonQueryMethods, tenantId: number): Promise<string | null> {
  const row = await db.maybeOne(sql.type(z.object({ plan: z.string() }))`SELECT plan FROM tenants WHERE id = ${tenantId}`);
  return row?.plan ?? null;
}
