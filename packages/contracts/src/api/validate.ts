/**
 * Validation with the API's schemas: one ajv (draft 2020-12) holding every schema of API_SCHEMAS, so request
 * schemas and response schemas resolve `#/components/schemas/<name>` the same way the OpenAPI document does.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FieldError } from './problems.js';
import { API_SCHEMAS, type ApiSchemaName, type JsonSchema } from './schemas.js';

const SCHEMAS_ID = 'https://wharf.dev/api/v1/schemas';
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

let shared: Ajv2020 | undefined;
const validators = new Map<string, ValidateFunction>();

const toDefs = (value: unknown): unknown => JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', `"${SCHEMAS_ID}#/$defs/`));

function ajv(): Ajv2020 {
  if (shared) return shared;
  const instance = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, coerceTypes: false });
  addFormats(instance);
  instance.addSchema({ $id: SCHEMAS_ID, $defs: toDefs(API_SCHEMAS) as Record<string, JsonSchema> });
  shared = instance;
  return instance;
}

/** Compiles a request schema (body, query or params), which may point at the API's schemas. */
export function compileApiSchema(schema: JsonSchema): ValidateFunction {
  return ajv().compile(toDefs(schema) as JsonSchema);
}

/** Checks a body against one of the API's schemas; the errors as fields and messages, or null. */
export function checkApiSchema(name: ApiSchemaName, value: unknown): FieldError[] | null {
  let validate = validators.get(name);
  if (!validate) {
    validate = ajv().compile({ $ref: `${SCHEMAS_ID}#/$defs/${name}` });
    validators.set(name, validate);
  }
  return validate(value) ? null : fieldErrors(validate.errors ?? [], '');
}

/** ajv errors as `{ field, message }`: the JSON pointer of the value (or the missing property). */
export function fieldErrors(errors: readonly ErrorObject[], prefix: string): FieldError[] {
  return errors.map((e) => {
    const params = e.params as { missingProperty?: string; additionalProperty?: string };
    const pointer = e.instancePath + (params.missingProperty ? `/${params.missingProperty}` : params.additionalProperty ? `/${params.additionalProperty}` : '');
    const field = prefix ? `${prefix}${pointer.replace(/^\//, '').replaceAll('/', '.')}` : pointer || '/';
    const message = params.additionalProperty ? 'is not a known field' : (e.message ?? 'is invalid');
    return { field, message };
  });
}
