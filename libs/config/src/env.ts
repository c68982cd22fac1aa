import { z } from 'zod';
import { ErrorCode, HotpathError, formatIssues } from '@hotpath/contracts';

/** Accepts the usual spellings of booleans in environment variables. */
export const envBoolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const envPort = z.coerce.number().int().min(0).max(65_535);

export const redisUrl = z
  .string()
  .min(1)
  .refine((v) => /^rediss?:\/\//.test(v), 'must be a redis:// or rediss:// URL');

/** Variables both the API and the worker read (docs/configuration.md). */
export const commonEnvShape = {
  REDIS_URL: redisUrl,
  HOTPATH_CONFIG: z.string().min(1).optional(),
  HOTPATH_RESULT_TTL_S: z.coerce
    .number()
    .int()
    .min(1)
    .max(30 * 24 * 3600)
    .default(3600),
  HOTPATH_TRACE_CONTENT: envBoolean.default(false),
  /** The OpenTelemetry GenAI switch for message content on spans; `HOTPATH_TRACE_CONTENT` is its alias. */
  OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: envBoolean.default(false),
  HOTPATH_DATA_DIR: z.string().min(1).default('.hotpath'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
};

/**
 * Parses the environment against a schema before anything else starts. On failure the error lists
 * every bad variable by name; the process prints it and exits (no `process.env` reads elsewhere).
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new HotpathError(ErrorCode.InvalidConfig, `invalid environment:\n${formatIssues(parsed.error)}`);
  }
  return parsed.data;
}
