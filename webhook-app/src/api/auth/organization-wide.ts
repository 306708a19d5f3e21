/**
 * A key limited to repositories never uses a permission that reaches the whole organization (its people, its audit
 * log, its name: contracts' ORGANIZATION_WIDE_PERMISSIONS), whatever its scopes hold. Applied to every handler by the
 * route's permission, so a new route with such a permission is refused to such keys without a line of its own.
 */
import { isOrganizationWide } from '@wharf/contracts';
import type { Handler } from '../handler.js';
import { ProblemError } from '../http/problem-error.js';

export function refuseOrganizationWide<T extends Record<string, Handler>>(handlers: T): T {
  const guarded = Object.entries(handlers).map(([operationId, handler]): [string, Handler] => [
    operationId,
    async (ctx) => {
      const access = ctx.route.access;
      if (ctx.acting?.repositoryIds && isOrganizationWide(access)) {
        throw new ProblemError('permission-denied', `a key limited to repositories cannot use ${access}: it reaches the whole organization, not only those repositories`, {
          permission: access,
        });
      }
      return handler(ctx);
    },
  ]);
  return Object.fromEntries(guarded) as T;
}
