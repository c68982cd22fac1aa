/** Log levels, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A structured logger: one JSON object per line on stdout (stderr for warn and error). */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/**
 * JSON-lines logging: what log shippers on Kubernetes expect, and cheap. Errors are flattened to
 * `{name, message, code}` so a stack never hides the code. Never pass secrets or prompt text here.
 */
export function createLogger(
  service: string,
  level: LogLevel = 'info',
  base: Record<string, unknown> = {},
): Logger {
  const min = ORDER[level];
  const write = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[lvl] < min) return;
    const rec: Record<string, unknown> = {
      time: new Date().toISOString(),
      level: lvl,
      service,
      msg,
      ...base,
    };
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        rec[k] =
          v instanceof Error ? { name: v.name, message: v.message, code: (v as { code?: unknown }).code } : v;
      }
    }
    const line = JSON.stringify(rec) + '\n';
    if (ORDER[lvl] >= ORDER.warn) process.stderr.write(line);
    else process.stdout.write(line);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger(service, level, { ...base, ...fields }),
  };
}
