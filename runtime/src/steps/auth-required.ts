import { isJwtAuth } from '../modules/auth-jwt.js';
import { HttpAnswerError } from '../pipeline/errors.js';
import { optionalString, stringList } from './config-values.js';
import type { StepFactory } from './step.js';

/** step.auth_required: a valid bearer token from the auth.jwt module, else 401; `roles` limits who passes (403). */
export const authRequired: StepFactory = (spec, deps) => {
  const where = `step ${spec.name} (step.auth_required)`;
  const name = optionalString(spec.config, 'auth', 'module', 'provider');
  const auth = name ? deps.modules.get(name) : deps.modules.ofType('auth.jwt')[0];
  if (!isJwtAuth(auth)) throw new Error(`${where}: needs an auth.jwt module${name ? ` named ${name}` : ''}`);
  const roles = stringList(spec.config.roles);
  return {
    name: spec.name,
    type: spec.type,
    async run(_ctx, scope) {
      const header = scope.headers.authorization;
      const value = Array.isArray(header) ? header[0] : (header ?? '');
      const token = value.startsWith('Bearer ') ? value.slice(7).trim() : '';
      const claims = token ? await auth.authenticate(token) : null;
      if (!claims) throw new HttpAnswerError(401, { error: 'unauthorized' });
      if (roles.length) {
        const have = [...stringList(claims.role), ...stringList(claims.roles)];
        if (!roles.some((r) => have.includes(r))) throw new HttpAnswerError(403, { error: 'forbidden' });
      }
      return {
        output: { authenticated: true, user_id: claims.sub ?? '', email: claims.email ?? '', role: claims.role ?? '', claims },
      };
    },
  };
};
