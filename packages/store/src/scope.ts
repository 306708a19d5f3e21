/**
 * Whose rows a read may return. Every read of tenant data takes a scope: a tenant (and, for repository data, the
 * repository), or EVERY_TENANT, which only the operator's own tools pass (`wharf status` run by whoever holds the
 * database) and which is easy to find in a review. Loops that work for every tenant by design (claiming due
 * environments, outbox rows, deliveries) say so in their names and docs instead.
 */
import { sql } from 'slonik';

export interface TenantScope {
  readonly tenantId: number;
}

export interface RepositoryScope extends TenantScope {
  readonly repositoryId: number;
}

/** Every tenant's rows: the operator's tools only. */
export const EVERY_TENANT = Object.freeze({ everyTenant: true } as const);
export type ReadScope = TenantScope | typeof EVERY_TENANT;

/** `<alias>.tenant_id = <tenant>`, or TRUE for EVERY_TENANT. */
export const tenantFilter = (scope: ReadScope, alias?: string) =>
  'everyTenant' in scope ? sql.fragment`TRUE` : sql.fragment`${sql.identifier(alias ? [alias, 'tenant_id'] : ['tenant_id'])} = ${scope.tenantId}`;

/** `<alias>.tenant_id = … AND <alias>.repository_id = …`. */
export const repositoryFilter = (scope: RepositoryScope, alias?: string) =>
  sql.fragment`${sql.identifier(alias ? [alias, 'tenant_id'] : ['tenant_id'])} = ${scope.tenantId} AND ${sql.identifier(alias ? [alias, 'repository_id'] : ['repository_id'])} = ${scope.repositoryId}`;

/** The scope of a repository row (`{ id, tenant_id }`). */
export const scopeOf = (repository: { id: number; tenant_id: number }): RepositoryScope => ({ tenantId: repository.tenant_id, repositoryId: repository.id });

/** A tenant's rows, limited to some of its repositories when `repositoryIds` is set (an API key scoped to repositories). */
export interface RestrictedScope extends TenantScope {
  readonly repositoryIds?: readonly number[] | null;
}

/** `<alias>.tenant_id = … [AND <alias>.<column> = ANY(…)]`. */
export const restrictedFilter = (scope: RestrictedScope, alias: string, column = 'repository_id') =>
  scope.repositoryIds
    ? sql.fragment`${sql.identifier([alias, 'tenant_id'])} = ${scope.tenantId} AND ${sql.identifier([alias, column])} = ANY(${sql.array([...scope.repositoryIds], 'int8')})`
    : sql.fragment`${sql.identifier([alias, 'tenant_id'])} = ${scope.tenantId}`;
