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

export class Evaluator {
  private out = '';
  constructor(private readonly fns: Readonly<Record<string, TemplateFunction>>) {}

  run(nodes: readonly Node[], data: unknown): string {
    this.out = '';
    const scope: Scope = { vars: new Map([['$', data]]), parent: null };
    this.walk(nodes, data, scope);
    return this.out;
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
          this.out += node.text;
          break;
        case 'action': {
          const v = this.pipeline(node.pipe, dot, scope);
          if (!node.pipe.decl) this.out += formatValue(v);
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
    let entries: [unknown, unknown][];
    if (Array.isArray(source)) entries = source.map((v, i) => [i, v]);
    else if (typeof source === 'number') entries = Array.from({ length: Math.max(0, Math.trunc(source)) }, (_, i) => [i, i]);
    else if (source && typeof source === 'object')
      entries = Object.keys(source)
        .sort()
        .map((k) => [k, (source as Record<string, unknown>)[k]]);
    else if (source === null || source === undefined) entries = [];
    else throw new TemplateExecError(`range can't iterate over ${formatValue(source)}`);
    if (!entries.length) {
      this.walk(node.otherwise, dot, { vars: new Map(), parent: scope });
      return;
    }
    for (const [key, value] of entries) {
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
      try {
        return fn(...args);
      } catch (err) {
        if (err instanceof TemplateExecError) throw new TemplateExecError(`error calling ${name}: ${err.message}`);
        throw err;
      }
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
