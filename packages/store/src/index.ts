export * from './embedded-postgres.js';
export * from './migrate.js';
export * from './pool.js';
export * from './listen.js';
export * as tenants from './tenants.js';
export * as repositories from './repositories.js';
export * as audit from './audit.js';
export { sql } from 'slonik';
export type { CommonQueryMethods, DatabaseTransactionConnection } from 'slonik';
