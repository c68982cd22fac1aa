/** Building blocks shared by the parts of the OpenAPI document. */

export type Json = Record<string, unknown>;

/** A reference to a schema of `components.schemas`. */
export const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

/** A JSON request or response body with `schema`. */
export const json = (schema: Json): Json => ({ 'application/json': { schema } });

/** The header of every 429 and 503. */
export const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
};
