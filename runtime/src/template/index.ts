import { Evaluator } from './evaluate.js';
import { createFunctions, FUNCTION_NAMES, type FunctionEnv, TemplateExecError } from './functions.js';
import { parseTemplate, type Node } from './parser.js';

export { TemplateSyntaxError } from './lexer.js';
export { TemplateExecError, FUNCTION_NAMES } from './functions.js';
export { formatValue, isTruthy } from './format-value.js';
export { walkPath } from './evaluate.js';

export type CompiledTemplate = {
  readonly source: string;
  /** True when the source holds no `{{`: rendering returns the source unchanged. */
  readonly isStatic: boolean;
  readonly nodes: readonly Node[];
};

export type TemplateEngine = {
  compile(source: string): CompiledTemplate;
  /** Renderings until endStep() share one budget (iterations, output) and stop at `deadline` (performance.now()). */
  beginStep(deadline: number | null): void;
  endStep(): void;
  render(template: CompiledTemplate | string, data: unknown): string;
  /** Renders every string inside a YAML value (maps and lists recursively); other values pass through. */
  renderValue(value: unknown, data: unknown): unknown;
};

/** Creates a Go-template engine with a parse cache; parse errors throw TemplateSyntaxError, run errors TemplateExecError. */
export function createTemplateEngine(fenv: FunctionEnv & { maxIterations?: number }): TemplateEngine {
  const fns = createFunctions(fenv);
  const evaluator = new Evaluator(fns, { maxIterations: fenv.maxIterations ?? 100_000, maxOutput: fenv.maxOutput ?? 4 * 1024 * 1024 });
  const cache = new Map<string, CompiledTemplate>();

  function compile(source: string): CompiledTemplate {
    let t = cache.get(source);
    if (!t) {
      const isStatic = !source.includes('{{');
      t = { source, isStatic, nodes: isStatic ? [] : parseTemplate(source, FUNCTION_NAMES) };
      cache.set(source, t);
    }
    return t;
  }

  function render(template: CompiledTemplate | string, data: unknown): string {
    const t = typeof template === 'string' ? compile(template) : template;
    if (t.isStatic) return t.source;
    return evaluator.run(t.nodes, data);
  }

  function renderValue(value: unknown, data: unknown): unknown {
    if (typeof value === 'string') return render(value, data);
    if (Array.isArray(value)) return value.map((v) => renderValue(v, data));
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = renderValue(v, data);
      return out;
    }
    return value;
  }

  return {
    compile,
    render,
    renderValue,
    beginStep: (deadline) => evaluator.beginStep(deadline),
    endStep: () => evaluator.endStep(),
  };
}

/** Collects every template string in a YAML value and parses it, so bad templates are found at start. */
export function checkTemplates(engine: TemplateEngine, value: unknown, where: string, errors: string[]): void {
  if (typeof value === 'string') {
    try {
      engine.compile(value);
    } catch (err) {
      errors.push(`${where}: template error: ${(err as Error).message}`);
    }
  } else if (Array.isArray(value)) for (const [i, v] of value.entries()) checkTemplates(engine, v, `${where}[${i}]`, errors);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) checkTemplates(engine, v, `${where}.${k}`, errors);
}

export function isTemplateError(err: unknown): err is Error {
  return err instanceof TemplateExecError || (err instanceof Error && err.name === 'TemplateSyntaxError');
}
