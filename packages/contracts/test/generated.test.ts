/** Generated files are fresh, and the CRD is a valid apiextensions.k8s.io/v1 structural schema. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { generateContracts } from '../scripts/generate.js';

const repoRoot = join(import.meta.dirname, '..', '..', '..');

t.test('every generated file matches its sources', async (t) => {
  t.same(await generateContracts({ check: true }), [], 'run `npm run generate` and commit the result');
});

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The rules of a structural schema (Kubernetes docs, "Specifying a structural schema"). */
function structuralProblems(schema: Json, path: string, inCombinator: boolean): string[] {
  const problems: string[] = [];
  if (!inCombinator && !('type' in schema) && !schema['x-kubernetes-int-or-string'] && !schema['x-kubernetes-preserve-unknown-fields']) {
    problems.push(`${path}: no type`);
  }
  if ('properties' in schema && 'additionalProperties' in schema) problems.push(`${path}: properties and additionalProperties`);
  for (const key of ['$ref', '$schema', '$defs', 'const', 'examples', 'definitions', 'dependencies', 'patternProperties']) {
    if (key in schema) problems.push(`${path}: ${key} is not allowed`);
  }
  for (const key of Object.keys(schema)) if (key.startsWith('x-') && !key.startsWith('x-kubernetes-')) problems.push(`${path}: ${key}`);
  if (inCombinator) {
    for (const key of ['type', 'additionalProperties', 'default', 'description', 'nullable']) {
      if (key in schema) problems.push(`${path}: ${key} inside a oneOf/anyOf/allOf branch`);
    }
  }
  if (isObject(schema.properties)) {
    for (const [k, v] of Object.entries(schema.properties)) if (isObject(v)) problems.push(...structuralProblems(v, `${path}.${k}`, inCombinator));
  }
  if (isObject(schema.items)) problems.push(...structuralProblems(schema.items, `${path}[]`, inCombinator));
  if (isObject(schema.additionalProperties)) problems.push(...structuralProblems(schema.additionalProperties, `${path}{}`, inCombinator));
  for (const key of ['oneOf', 'anyOf', 'allOf']) {
    const branches = Array.isArray(schema[key]) ? (schema[key] as Json[]) : [];
    for (const [i, b] of branches.entries()) problems.push(...structuralProblems(b, `${path}.${key}[${i}]`, true));
  }
  return problems;
}

t.test('the WorkflowApp CRD', async (t) => {
  const crd = parse(readFileSync(join(repoRoot, 'crds', 'workflowapps.wharf.dev.yaml'), 'utf8'));
  t.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
  t.equal(crd.kind, 'CustomResourceDefinition');
  t.equal(crd.metadata.name, `${crd.spec.names.plural}.${crd.spec.group}`, 'name is <plural>.<group>');
  t.equal(crd.spec.group, 'wharf.dev');
  t.equal(crd.spec.names.kind, 'WorkflowApp');
  const [version] = crd.spec.versions;
  t.equal(crd.spec.versions.length, 1);
  t.match(version, { name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
  t.same(
    version.additionalPrinterColumns.map((c: { name: string }) => c.name),
    ['App', 'Env', 'Version', 'Ready', 'Age'],
  );
  const schema = version.schema.openAPIV3Schema;
  t.same(structuralProblems(schema, '', false), [], 'structural schema');
  t.same(schema.properties.metadata, { type: 'object' }, 'metadata is left to the API server');
  t.same(Object.keys(schema.properties.spec.properties).sort(), ['app', 'env', 'environment', 'files', 'replicas', 'resources', 'runtime', 'version']);
  const conditions = schema.properties.status.properties.conditions;
  t.equal(conditions['x-kubernetes-list-type'], 'map');
  t.same(conditions['x-kubernetes-list-map-keys'], ['type']);
  t.ok(conditions.items.required.includes('type'), 'list map keys are required');
});
