import type { DatabasePool } from '@wharf/store';

/**
 * The pool as it is, except that a statement whose SQL contains `sqlIncludes` fails: a process that died between
 * one step and the next (for metering: between Stripe's answer and marking the event sent).
 */
export function failingQuery(pool: DatabasePool, sqlIncludes: string, message: string): DatabasePool {
  return new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (query: { sql: string }, ...rest: unknown[]) => {
          if (query.sql.includes(sqlIncludes)) return Promise.reject(new Error(message));
          return (target.query as (...a: unknown[]) => unknown)(query, ...rest);
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
