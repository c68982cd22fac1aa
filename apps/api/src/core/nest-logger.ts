import type { LoggerService } from '@nestjs/common';
import type { Logger } from '@hotpath/telemetry';

/** Routes Nest's own messages into the JSON-lines logger; its chatty `log` level becomes `debug`. */
export class NestLoggerAdapter implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: unknown): void {
    this.logger.debug(String(message), { context });
  }
  warn(message: unknown, context?: unknown): void {
    this.logger.warn(String(message), { context });
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.logger.error(String(message), { context: rest.at(-1) });
  }
  debug(message: unknown, context?: unknown): void {
    this.logger.debug(String(message), { context });
  }
  verbose(message: unknown, context?: unknown): void {
    this.logger.debug(String(message), { context });
  }
}
