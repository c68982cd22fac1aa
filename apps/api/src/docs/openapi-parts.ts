/** Building blocks shared by the parts of the OpenAPI document. */

import { z } from 'zod';

export type Json = Record<string, unknown>;

/** A reference to a schema of `components.schemas`. */
export const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

/** A JSON request or response body with `schema`. */
export const json = (schema: Json): Json => ({ 'application/json': { schema } });

/** The header of every 429 and 503. */
export const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
};

/**
 * The JSON Schema of zod schemas that zod cannot describe: fields parsed through `z.preprocess`
 * accept more input forms (OpenAI's string-or-list fields) than the schema zod sees after it.
 */
export const documentedAs = z.registry<{ jsonSchema: Json }>();

/**
 * JSON Schema (2020-12, the dialect of OpenAPI 3.1) of a zod schema, without its `$schema` key;
 * parts registered in {@link documentedAs} are described as registered.
 */
export function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    override: (ctx) => {
      const documented = documentedAs.get(ctx.zodSchema)?.jsonSchema;
      if (!documented) return;
      const target = ctx.jsonSchema as Json;
      for (const key of Object.keys(target)) delete target[key];
      Object.assign(target, documented);
    },
  }) as Json;
  return rest;
}
