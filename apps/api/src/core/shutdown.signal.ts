import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { SHUTDOWN_SIGNAL } from './tokens';

/**
 * Aborts the shared shutdown signal before the HTTP server closes, so long-polls (`Prefer: wait`,
 * `?wait=`) answer with the job's current state at once instead of holding the shutdown up.
 */
@Injectable()
export class ShutdownSignalHook implements BeforeApplicationShutdown {
  constructor(@Inject(SHUTDOWN_SIGNAL) private readonly controller: AbortController) {}

  beforeApplicationShutdown(): void {
    this.controller.abort();
  }
}
