/**
 * Row parsing shared by the query modules. slonik 47 applies `sql.type(schema)` only with a result-parser
 * interceptor, so modules parse rows with their schema themselves; these are the pieces they share.
 */
import { ENVIRONMENT_KINDS, parseConditions, type WorkflowAppSpec } from '@wharf/contracts';
import { sql } from 'slonik';
import { z } from 'zod';

/** int8 columns: numbers from Wharf's pool; BigInt or text from other drivers. Ids stay far below 2^53. */
export const int8 = z.union([z.number(), z.bigint(), z.string()]).transform(Number);
/** jsonb columns, taken as they come. */
export const Json = z.custom<unknown>(() => true);

export const parseRows =
  <S extends z.ZodTypeAny>(schema: S) =>
  (rows: readonly unknown[]): z.output<S>[] =>
    rows.map((r) => schema.parse(r));

export const parseRow =
  <S extends z.ZodTypeAny>(schema: S) =>
  (row: unknown): z.output<S> | null =>
    row === null ? null : schema.parse(row);

export const parseOne =
  <S extends z.ZodTypeAny>(schema: S) =>
  (row: unknown): z.output<S> =>
    schema.parse(row);

/** JSON values go through a round trip so that `undefined` members disappear, as jsonb would drop them anyway. */
export const jsonb = (value: unknown) => sql.jsonb(JSON.parse(JSON.stringify(value ?? null)));

/** A WorkflowApp spec column (desired_spec, version_apps.spec): written from validated versions only. */
export const SpecColumn = z.custom<WorkflowAppSpec | null>(() => true).transform((v) => v ?? null);

/** `id` columns of RETURNING clauses. */
export const IdRow = z.object({ id: int8 });

/** The columns that say which environment a row is: every environment row schema starts with them. */
export const EnvironmentKey = z.object({
  id: int8,
  tenant_id: int8,
  repository_id: int8,
  app: z.string(),
  name: z.string(),
  kind: z.enum(ENVIRONMENT_KINDS),
});

/** `environments.conditions` as contracts' Condition list. */
export const ConditionsColumn = Json.transform(parseConditions);
