/**
 * ajv instances for Wharf's schemas: draft 2020-12, strict, all errors. Created lazily, once per
 * process and purpose, so schemas are compiled once and reused for every file.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';

/** Annotation keywords Wharf's schemas carry for messages, generators and Kubernetes. */
export const ANNOTATION_KEYWORDS = [
  'x-hint',
  'x-ts-type',
  'x-field-type',
  'x-module-ref',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-preserve-unknown-fields',
] as const;

export interface AjvOptions {
  /** Fill in `default` values (the manifest). Never for workflow configs, whose value is hashed as written. */
  useDefaults: boolean;
}

export function createAjv(options: AjvOptions): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
    useDefaults: options.useDefaults,
    verbose: true,
  });
  ajv.addVocabulary([...ANNOTATION_KEYWORDS]);
  return ajv;
}

/** A value computed on first use and kept: `const get = lazy(() => compile())`. */
export function lazy<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => {
    made ??= { value: make() };
    return made.value;
  };
}
