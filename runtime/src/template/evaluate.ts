import { formatValue, isTruthy } from './format-value.js';
import { TemplateExecError, type TemplateFunction } from './functions.js';
import type { Arg, Command, Node, Pipeline } from './parser.js';

const BREAK = Symbol('break');
const CONTINUE = Symbol('continue');

type Scope = { vars: Map<string, unknown>; parent: Scope | null };

function lookupVar(scope: Scope, name: string): unknown {
  for (let s: Scope | null = scope; s; s = s.parent) if (s.vars.has(name)) return s.vars.get(name);
  throw new TemplateExecError(`undefined variable: ${name}`);
}

function setVar(scope: Scope, name: string, value: unknown): void {
  for (let s: Scope | null = scope; s; s = s.parent)
    if (s.vars.has(name)) {
      s.vars.set(name, value);
      return;
    }
  throw new TemplateExecError(`undefined variable: ${name}`);
}

/** Walks a field chain; a missing key or nil anywhere yields undefined (printed as ""). */
export function walkPath(value: unknown, path: readonly string[]): unknown {
  let cur = value;
  for (const key of path) {
    if (cur === null || cur === undefined) return undefined;
    if (typeof cur !== 'object' || Array.isArray(cur)) {
      throw new TemplateExecError(`can't evaluate field ${key} in type ${Array.isArray(cur) ? '[]interface {}' : typeof cur}`);
    }
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** What one rendering may cost: loop iterations, output size, and the pipeline's deadline. */
export type TemplateBudget = { readonly maxIterations: number; readonly maxOutput: number };

export class Evaluator {
  private out = '';
  private iterations = 0;
  /** Output of earlier renderings in the current step: the budget covers a whole step, not one string. */
  private produced = 0;
  private inStep = false;
  /** performance.now() past which a rendering stops (the running pipeline's deadline), or null. */
  private deadline: number | null = null;
  constructor(
    private readonly fns: Readonly<Record<string, TemplateFunction>>,
    private readonly budget: TemplateBudget,
  ) {}

  /** Renderings until endStep() share one budget and stop at `deadline`. */
  beginStep(deadline: number | null): void {
    this.inStep = true;
    this.deadline = deadline;
    this.iterations = 0;
    this.produced = 0;
  }

  endStep(): void {
    this.inStep = false;
    this.deadline = null;
  }

  run(nodes: readonly Node[], data: unknown): string {
    this.out = '';
    if (!this.inStep) {
      this.iterations = 0;
      this.produced = 0;
    }
    const scope: Scope = { vars: new Map([['$', data]]), parent: null };
    this.walk(nodes, data, scope);
    this.produced += this.out.length;
    return this.out;
  }

  private emit(text: string): void {
    this.out += text;
    if (this.produced + this.out.length > this.budget.maxOutput)
      throw new TemplateExecError(`templates produced more than ${this.budget.maxOutput} characters in one step`);
  }

  private tick(): void {
    if (++this.iterations > this.budget.maxIterations) throw new TemplateExecError(`range ran more than ${this.budget.maxIterations} iterations in one step`);
    if ((this.iterations & 1023) === 0 && this.deadline !== null && performance.now() > this.deadline)
      throw new TemplateExecError('the pipeline deadline passed while the template was rendering');
  }

  /** Evaluates a single-action template and returns its raw value rather than text. */
  value(pipe: Pipeline, data: unknown): unknown {
    const scope: Scope = { vars: new Map([['$', data]]), parent: null };
    return this.pipeline(pipe, data, scope);
  }

  private walk(nodes: readonly Node[], dot: unknown, scope: Scope): void {
    for (const node of nodes) {
      switch (node.t) {
        case 'text':
          this.emit(node.text);
          break;
        case 'action': {
          const v = this.pipeline(node.pipe, dot, scope);
          if (!node.pipe.decl) this.emit(formatValue(v));
          break;
        }
        case 'if': {
          const inner: Scope = { vars: new Map(), parent: scope };
          const v = this.pipeline(node.pipe, dot, inner);
          this.walk(isTruthy(v) ? node.body : node.otherwise, dot, inner);
          break;
        }
        case 'with': {
          const inner: Scope = { vars: new Map(), parent: scope };
          const v = this.pipeline(node.pipe, dot, inner);
          if (isTruthy(v)) this.walk(node.body, v, inner);
          else this.walk(node.otherwise, dot, inner);
          break;
        }
        case 'range':
          this.range(node, dot, scope);
          break;
        case 'break':
          throw BREAK;
        case 'continue':
          throw CONTINUE;
      }
    }
  }

  private range(node: Extract<Node, { t: 'range' }>, dot: unknown, scope: Scope): void {
    const decl = node.pipe.decl;
    const source = this.pipeline({ decl: null, cmds: node.pipe.cmds }, dot, scope);
    let entries: Iterable<[unknown, unknown]>;
    let count: number;
    if (Array.isArray(source)) {
      entries = source.entries();
      count = source.length;
    } else if (typeof source === 'number') {
      // An integer range is counted, never materialized: `range 1000000000` stops at the iteration budget.
      count = Math.max(0, Math.trunc(source));
      entries = (function* () {
        for (let i = 0; i < count; i++) yield [i, i] as [unknown, unknown];
      })();
    } else if (source && typeof source === 'object') {
      const keys = Object.keys(source).sort();
      count = keys.length;
      entries = keys.map((k): [unknown, unknown] => [k, (source as Record<string, unknown>)[k]]);
    } else if (source === null || source === undefined) {
      entries = [];
      count = 0;
    } else throw new TemplateExecError(`range can't iterate over ${formatValue(source)}`);
    if (!count) {
      this.walk(node.otherwise, dot, { vars: new Map(), parent: scope });
      return;
    }
    for (const [key, value] of entries) {
      this.tick();
      const inner: Scope = { vars: new Map(), parent: scope };
      if (decl) {
        if (decl.names.length === 1) inner.vars.set(decl.names[0], value);
        else {
          inner.vars.set(decl.names[0], key);
          inner.vars.set(decl.names[1], value);
        }
      }
      try {
        this.walk(node.body, value, inner);
      } catch (err) {
        if (err === BREAK) break;
        if (err === CONTINUE) continue;
        throw err;
      }
    }
  }

  private pipeline(pipe: Pipeline, dot: unknown, scope: Scope): unknown {
    let value: unknown;
    let hasPiped = false;
    for (const cmd of pipe.cmds) {
      value = this.command(cmd, dot, scope, hasPiped, value);
      hasPiped = true;
    }
    if (pipe.decl) {
      for (const name of pipe.decl.names) {
        if (pipe.decl.assign) setVar(scope, name, value);
        else scope.vars.set(name, value);
      }
    }
    return value;
  }

  private command(cmd: Command, dot: unknown, scope: Scope, hasPiped: boolean, piped: unknown): unknown {
    const head = cmd[0];
    if (head.k === 'fn') {
      const name = head.name;
      if (name === 'and' || name === 'or') {
        const argNodes = cmd.slice(1);
        const total = argNodes.length + (hasPiped ? 1 : 0);
        if (total === 0) throw new TemplateExecError(`wrong number of args for ${name}: want at least 1 got 0`);
        let last: unknown;
        for (let i = 0; i < total; i++) {
          last = i < argNodes.length ? this.arg(argNodes[i], dot, scope) : piped;
          if (name === 'and' ? !isTruthy(last) : isTruthy(last)) return last;
        }
        return last;
      }
      const fn = this.fns[name];
      const args = cmd.slice(1).map((a) => this.arg(a, dot, scope));
      if (hasPiped) args.push(piped);
      let result: unknown;
      try {
        result = fn(...args);
      } catch (err) {
        if (err instanceof TemplateExecError) throw new TemplateExecError(`error calling ${name}: ${err.message}`);
        if (err instanceof RangeError) throw new TemplateExecError(`error calling ${name}: ${err.message}`);
        throw err;
      }
      if (typeof result === 'string' && result.length > this.budget.maxOutput)
        throw new TemplateExecError(`error calling ${name}: the result is larger than ${this.budget.maxOutput} characters`);
      return result;
    }
    if (cmd.length > 1 || hasPiped) throw new TemplateExecError(`can't give argument to non-function ${describe(head)}`);
    return this.arg(head, dot, scope);
  }

  private arg(a: Arg, dot: unknown, scope: Scope): unknown {
    switch (a.k) {
      case 'lit':
        return a.value;
      case 'field':
        return a.path.length ? walkPath(dot, a.path) : dot;
      case 'var':
        return walkPath(lookupVar(scope, a.name), a.path);
      case 'sub':
        return walkPath(this.pipeline(a.pipe, dot, scope), a.path);
      case 'steppath': {
        // old `{{step-name.field}}` form: a step output first, then a context value
        const root = lookupVar(scope, '$') as Record<string, unknown> | null;
        const steps = root && typeof root === 'object' ? (root.steps as Record<string, unknown> | undefined) : undefined;
        const [first, ...rest] = a.path;
        if (steps && typeof steps === 'object' && first in steps) return walkPath(steps[first], rest);
        return walkPath(root, a.path);
      }
      case 'fn': {
        if (a.name === 'and' || a.name === 'or') throw new TemplateExecError(`wrong number of args for ${a.name}`);
        return this.fns[a.name]();
      }
    }
  }
}

function describe(a: Arg): string {
  if (a.k === 'field') return `.${a.path.join('.')}`;
  if (a.k === 'var') return a.name;
  if (a.k === 'lit') return formatValue(a.value);
  return a.k;
}
