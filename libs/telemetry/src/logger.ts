import pino from 'pino';

/** Log levels, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A structured logger: one JSON object per line on stdout (stderr for warn and error). */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/**
 * Field names whose values never reach a log line, at the top level or one level down: credentials,
 * and user content (prompts, messages, texts, generated output) which is the tenants' data.
 */
export const REDACTED_FIELDS = [
  'authorization',
  'cookie',
  'api_key',
  'apiKey',
  'key',
  'keys',
  'password',
  'secret',
  'token',
  'prompt',
  'messages',
  'texts',
  'input',
  'text',
  'output',
] as const;
const REDACT_PATHS = REDACTED_FIELDS.flatMap((f) => [f, `*.${f}`]);

/**
 * JSON-lines logging on pino: what log shippers on Kubernetes expect, and cheap. Each line has
 * `time` (ISO 8601), `level` (name), `service`, `msg` and the logger's bound fields (a request's
 * or job's child logger binds its `trace_id`/`span_id`, see `traceLogFields`). Errors are flattened to
 * `{name, message, code}` so a stack never hides the code. Secrets and user text are redacted
 * ({@link REDACTED_FIELDS}); still, never pass them here.
 */
export function createLogger(
  service: string,
  level: LogLevel = 'info',
  base: Record<string, unknown> = {},
): Logger {
  const root = pino(
    {
      level,
      base: { service },
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // Errors are flattened here (`flatten`), so pino's own `err` serializer must not rewrap them.
      serializers: { err: (v: unknown) => v },
    },
    // dedupe: a line goes to the stream of the highest level it reaches only (warn+ → stderr).
    pino.multistream(
      [
        { level: 'debug', stream: process.stdout },
        { level: 'warn', stream: process.stderr },
      ],
      { dedupe: true },
    ),
  );
  return wrap(Object.keys(base).length > 0 ? root.child(flatten(base)) : root);
}

function wrap(p: pino.Logger): Logger {
  const at =
    (lvl: LogLevel) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      if (fields) p[lvl](flatten(fields), msg);
      else p[lvl](msg);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => wrap(p.child(flatten(fields))),
  };
}

function flatten(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] =
      v instanceof Error ? { name: v.name, message: v.message, code: (v as { code?: unknown }).code } : v;
  }
  return out;
}
