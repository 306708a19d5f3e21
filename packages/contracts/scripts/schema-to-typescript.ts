/**
 * A small JSON Schema (draft 2020-12 subset) to TypeScript generator for Wharf's own schemas.
 * Types describe values after defaults are applied: a property with a `default` is required in the type.
 * Titled object schemas become named interfaces; `$ref`s to other schema files become imports.
 */
type Schema = Record<string, unknown>;

export interface TypeScriptOptions {
  /** Schema file name (as used in `$ref`) -> module to import its titled definitions from. */
  imports?: Record<string, string>;
  header: string;
}

const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

export function schemaToTypeScript(root: Schema, options: TypeScriptOptions): string {
  const declarations = new Map<string, string>();
  const imports = new Map<string, Set<string>>();
  const defs = isObject(root.$defs) ? root.$defs : {};

  const refName = (ref: string): string => {
    const [file, pointer] = ref.split('#');
    const name = (pointer ?? '').split('/').pop() ?? '';
    if (file) {
      const from = options.imports?.[file];
      if (!from) throw new Error(`no import configured for ${file}`);
      const set = imports.get(from) ?? new Set<string>();
      set.add(name);
      imports.set(from, set);
      return name;
    }
    const target = defs[name];
    if (!isObject(target)) throw new Error(`unresolved $ref ${ref}`);
    const title = typeof target.title === 'string' ? target.title : name;
    if (!declarations.has(title)) {
      declarations.set(title, '');
      declarations.set(title, declare(title, target));
    }
    return title;
  };

  const doc = (s: Schema, indent: string): string =>
    typeof s.description === 'string' ? `${indent}/** ${s.description.replace(/\*\//g, '*\\/')} */\n` : '';

  function typeOf(s: Schema, indent: string): string {
    if (typeof s['x-ts-type'] === 'string') return s['x-ts-type'];
    if (typeof s.$ref === 'string') return refName(s.$ref);
    if ('const' in s) return JSON.stringify(s.const);
    if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
    const union = (Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : []).filter(
      (b): b is Schema => isObject(b) && ('type' in b || '$ref' in b || 'const' in b || 'enum' in b),
    );
    if (union.length > 0 && !('type' in s) && !('properties' in s)) return union.map((b) => typeOf(b, indent)).join(' | ');
    const type = s.type;
    if (Array.isArray(type)) return type.map((t) => typeOf({ ...s, type: t }, indent)).join(' | ');
    switch (type) {
      case 'string':
        return 'string';
      case 'integer':
      case 'number':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'null':
        return 'null';
      case 'array':
        return isObject(s.items) ? `${wrap(typeOf(s.items, indent))}[]` : 'unknown[]';
      case 'object': {
        if (typeof s.title === 'string' && s !== root && indent !== '') return named(s.title, s);
        return objectBody(s, indent);
      }
      default:
        return 'unknown';
    }
  }

  const wrap = (t: string) => (t.includes('|') ? `(${t})` : t);

  function named(title: string, s: Schema): string {
    if (!declarations.has(title)) {
      declarations.set(title, '');
      declarations.set(title, declare(title, s));
    }
    return title;
  }

  function objectBody(s: Schema, indent: string): string {
    const properties = isObject(s.properties) ? s.properties : {};
    const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
    const lines: string[] = [];
    for (const [key, value] of Object.entries(properties)) {
      if (!isObject(value) || key === '$schema') continue;
      const optional = !required.has(key) && !('default' in value);
      const name = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : JSON.stringify(key);
      lines.push(`${doc(value, `${indent}  `)}${indent}  ${name}${optional ? '?' : ''}: ${typeOf(value, `${indent}  `)};`);
    }
    if (isObject(s.additionalProperties)) {
      const valueType = typeOf(s.additionalProperties, `${indent}  `);
      if (lines.length === 0) return `Record<string, ${valueType}>`;
      lines.push(`${indent}  [key: string]: ${valueType};`);
    }
    if (lines.length === 0) return 'Record<string, unknown>';
    return `{\n${lines.join('\n')}\n${indent}}`;
  }

  function declare(title: string, s: Schema): string {
    const body = s.type === 'object' && !('x-ts-type' in s) ? objectBody(s, '') : typeOf(s, '');
    return body.startsWith('{')
      ? `${doc(s, '')}export interface ${title} ${body}\n`
      : `${doc(s, '')}export type ${title} = ${body};\n`;
  }

  if (typeof root.title !== 'string') throw new Error('root schema needs a title');
  named(root.title, root);
  for (const [name, def] of Object.entries(defs)) if (isObject(def)) refName(`#/$defs/${name}`);

  const importLines = [...imports.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([from, names]) => `import type { ${[...names].sort().join(', ')} } from '${from}';\n`)
    .join('');
  return `${options.header}\n${importLines}${importLines ? '\n' : ''}${[...declarations.values()].join('\n')}`;
}
