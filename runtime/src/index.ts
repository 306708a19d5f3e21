import { fileURLToPath } from 'node:url';

export { createRuntime, type Runtime, type RuntimeOptions } from './runtime.js';
export { ConfigError } from './config/app-config.js';
export { parseRuntimeArgs, type RuntimeArgs } from './cli-args.js';
export { MODULE_TYPES } from './modules/registry.js';
export { STEP_TYPES } from './steps/registry.js';
export { createTemplateEngine, type TemplateEngine, TemplateExecError, TemplateSyntaxError } from './template/index.js';

/** Absolute path of the `wharf-runtime` entry script; run it with `node --import tsx RUNTIME_BIN --config …`. */
export const RUNTIME_BIN: string = fileURLToPath(new URL('./bin/wharf-runtime.ts', import.meta.url));
