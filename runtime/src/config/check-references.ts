import { isMiddleware } from '../modules/auth-middleware.js';
import { isRouteHandler } from '../modules/http-handler.js';
import type { ModuleSet } from '../modules/module.js';
import type { JqRunner } from '../steps/jq-runner.js';
import type { AppConfig } from './app-config.js';

/** Route handlers and middlewares must name something the runtime can serve. */
export function checkRoutes(config: AppConfig, pipelineNames: ReadonlySet<string>, modules: ModuleSet): string[] {
  const problems: string[] = [];
  for (const r of config.routes) {
    const m = modules.get(r.handler);
    if (!pipelineNames.has(r.handler) && !m?.registerRoutes && !isRouteHandler(m))
      problems.push(`route ${r.method} ${r.path}: handler ${r.handler} is not a pipeline or a module that serves routes (http.handler, api.handler, auth.jwt, static.fileserver)`);
    for (const mw of r.middlewares)
      if (!isMiddleware(modules.get(mw))) problems.push(`route ${r.method} ${r.path}: middleware ${mw} is not supported (auth.jwt and http.middleware.auth modules)`);
  }
  return problems;
}

/** Compiles every step.jq expression (without running it), so a syntax error stops the start instead of failing requests. */
export async function checkJqExpressions(config: AppConfig, jq: JqRunner): Promise<string[]> {
  const problems: string[] = [];
  for (const spec of config.pipelines)
    for (const s of spec.steps) {
      const expression = s.type === 'step.jq' ? (s.config.expression ?? s.config.query ?? s.config.filter) : undefined;
      if (typeof expression !== 'string') continue;
      const error = await jq.check(expression);
      if (error) problems.push(`pipeline ${spec.name} step ${s.name}: invalid jq expression: ${error}`);
    }
  return problems;
}
