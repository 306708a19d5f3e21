import { createPool, createTypeParserPreset, type DatabasePool, type Interceptor, InvalidInputError, SlonikError } from 'slonik';

export type { DatabasePool } from 'slonik';

export interface PoolOptions {
  maximumPoolSize?: number;
  /** Counted by tests and the idle benchmark. */
  onQuery?: () => void;
  statementTimeoutMs?: number;
  /**
   * Run `DISCARD ALL` each time a connection goes back to the pool (slonik's default). Off by default: it doubles the
   * round trips of every query, and nothing Wharf sends through the pool changes session state (no `SET`, no session
   * advisory locks, no temporary tables: LISTEN and the migration lock use their own `pg` clients). A transaction
   * that fails is rolled back by slonik either way.
   */
  resetSessions?: boolean;
}

/**
 * The one way Wharf opens a pool. Timestamps come back as ISO strings (not epoch numbers) and int8 as numbers
 * (ids and generations stay far below 2^53).
 */
export async function createStorePool(connectionString: string, options: PoolOptions = {}): Promise<DatabasePool> {
  const interceptors: Interceptor[] = [];
  if (options.onQuery) {
    const onQuery = options.onQuery;
    interceptors.push({
      name: 'wharf.query-counter',
      beforeQueryExecution: () => {
        onQuery();
        return null;
      },
    });
  }
  return createPool(connectionString, {
    maximumPoolSize: options.maximumPoolSize ?? 10,
    interceptors,
    statementTimeout: options.statementTimeoutMs ?? 30_000,
    // A held transaction must not block others for long.
    idleInTransactionSessionTimeout: 60_000,
    connectionTimeout: 5_000,
    ...(options.resetSessions ? {} : { resetConnection: async () => undefined }),
    typeParsers: [
      ...createTypeParserPreset().filter((p) => !['int8', 'timestamptz', 'timestamp'].includes(p.name)),
      { name: 'int8', parse: (value: string) => Number.parseInt(value, 10) },
      { name: 'timestamptz', parse: (value: string) => new Date(value).toISOString() },
    ],
  });
}

/** True for errors of the database or its connection (the caller stops instead of skipping one item). */
export const isDatabaseError = (err: unknown): boolean => err instanceof SlonikError;

/**
 * True when Postgres refused the values of a statement (SQLSTATE class 22, data exception: a payload jsonb cannot
 * hold, say), as opposed to the database being unavailable: the same statement with other values would work.
 */
export const isInvalidDataError = (err: unknown): boolean => {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (e instanceof InvalidInputError || /^22/.test(String((e as { code?: unknown }).code ?? ''))) return true;
  }
  return false;
};
