import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

export const Tenant = z.object({
  id: z.number(),
  kind: z.enum(['github', 'local']),
  external_id: z.string(),
  name: z.string(),
  plan: z.string(),
  max_previews: z.number(),
});
export type Tenant = z.infer<typeof Tenant>;

export async function upsertTenant(
  db: CommonQueryMethods,
  input: { kind: Tenant['kind']; externalId: string; name: string },
): Promise<Tenant> {
  return db.one(sql.type(Tenant)`
    INSERT INTO tenants (kind, external_id, name) VALUES (${input.kind}, ${input.externalId}, ${input.name})
    ON CONFLICT (kind, external_id) DO UPDATE SET name = EXCLUDED.name
    RETURNING id, kind, external_id, name, plan, max_previews`);
}

export async function findTenant(db: CommonQueryMethods, kind: Tenant['kind'], externalId: string): Promise<Tenant | null> {
  return db.maybeOne(sql.type(Tenant)`
    SELECT id, kind, external_id, name, plan, max_previews FROM tenants WHERE kind = ${kind} AND external_id = ${externalId}`);
}
