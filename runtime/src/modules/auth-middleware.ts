import type { ModuleSpec } from '../config/app-config.js';
import type { HttpGuard } from '../http/http-types.js';
import { isJwtAuth, type JwtAuth } from './auth-jwt.js';
import type { ModuleSet, RuntimeModule } from './module.js';

/** A module that can guard routes (`middlewares:` on a route). */
export type MiddlewareModule = RuntimeModule & { guard: HttpGuard };

export function isMiddleware(m: RuntimeModule | undefined): m is MiddlewareModule {
  return !!m && typeof (m as Partial<MiddlewareModule>).guard === 'function';
}

/**
 * http.middleware.auth: the engine's AuthMiddleware. A request needs `Authorization: <authType> <token>`
 * (authType "Bearer" by default) and a token one of its providers accepts; the providers are the config's
 * auth.jwt modules. Failures answer 401 with Go's http.Error text: "Authorization header required",
 * "Bearer authorization required", "Invalid credentials".
 */
export function createAuthMiddleware(spec: ModuleSpec): MiddlewareModule & { attach(modules: ModuleSet): void } {
  const authType = typeof spec.config.authType === 'string' && spec.config.authType ? spec.config.authType : 'Bearer';
  let providers: JwtAuth[] = [];
  const deny = (message: string) => ({ status: 401, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }, text: `${message}\n` });
  return {
    name: spec.name,
    type: spec.type,
    attach(modules) {
      providers = modules.all().filter(isJwtAuth);
    },
    async guard(req) {
      const header = req.headers.authorization ?? '';
      if (!header) return deny('Authorization header required');
      if (!header.startsWith(`${authType} `)) return deny(`${authType} authorization required`);
      const token = header.slice(authType.length + 1);
      for (const p of providers) if (await p.authenticate(token)) return null;
      return deny('Invalid credentials');
    },
  };
}
