export { createRuntime, type Runtime, type RuntimeOptions } from './runtime.js';
export { ConfigError } from './config/app-config.js';
export { parseRuntimeArgs, type RuntimeArgs } from './cli-args.js';
export { MODULE_TYPES } from './modules/registry.js';
export { STEP_TYPES } from './steps/registry.js';
export { createTemplateEngine, type TemplateEngine, TemplateExecError, TemplateSyntaxError } from './template/index.js';
export { RUNTIME_BIN, runtimeCommand, type RuntimeCommandOptions } from './runtime-command.js';
export { ensureRuntimeBundle, RUNTIME_BUNDLE, runtimeLaunchCommand } from './bundle.js';
