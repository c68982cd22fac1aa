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
  /** One URL; with `REDIS_MODE=cluster`, one or more comma-separated seed URLs. */
  REDIS_URL: redisUrl,
  REDIS_MODE: z.enum(['standalone', 'cluster', 'sentinel']).default('standalone'),
  /** `host:port,...` of the Sentinels (`REDIS_MODE=sentinel`). */
  REDIS_SENTINELS: z.string().min(1).optional(),
  /** The primary's name the Sentinels monitor (`REDIS_MODE=sentinel`). */
  REDIS_SENTINEL_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 letters, digits, ".", "_" or "-"')
    .optional(),
  /** Replicas that must acknowledge a job (and a result) before it counts as accepted; 0 = none. */
  HOTPATH_REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(16).default(0),
  /** Longest wait for those acknowledgements before answering 503 (the job is not accepted). */
  HOTPATH_REDIS_WAIT_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  HOTPATH_CONFIG: z.string().min(1).optional(),
  /** The `tenants` section as YAML or JSON; wins over the config file's section. */
  HOTPATH_TENANTS: z.string().optional(),
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
