import { setMaxListeners } from 'node:events';
import { Module, type DynamicModule } from '@nestjs/common';
import { TenantSettings } from '@hotpath/config';
import type { HotpathMetrics, Logger } from '@hotpath/telemetry';
import { ApiKeyRegistry } from '../auth/api-key-registry';
import type { ApiConfig } from '../config/api-config';
import { ShutdownSignalHook } from './shutdown.signal';
import { API_CONFIG, LOGGER, METRICS, SHUTDOWN_SIGNAL } from './tokens';

/** What the app factory hands to Nest: built once, before Nest starts. */
export interface CoreDeps {
  config: ApiConfig;
  logger: Logger;
  metrics: HotpathMetrics;
}

/**
 * Global values every feature module may inject: config, logger, metrics, API keys, shutdown signal
 * and the tenant settings (reloadable on SIGHUP).
 */
@Module({})
export class CoreModule {
  static forRoot(deps: CoreDeps): DynamicModule {
    // Every long-polling request listens on the shutdown signal while it waits: hundreds at once
    // are normal, not a leak.
    const shutdown = new AbortController();
    setMaxListeners(0, shutdown.signal);
    return {
      module: CoreModule,
      global: true,
      providers: [
        { provide: API_CONFIG, useValue: deps.config },
        { provide: LOGGER, useValue: deps.logger },
        { provide: METRICS, useValue: deps.metrics },
        { provide: ApiKeyRegistry, useValue: new ApiKeyRegistry(deps.config.auth.keys) },
        { provide: SHUTDOWN_SIGNAL, useValue: shutdown },
        { provide: TenantSettings, useValue: new TenantSettings(deps.config.cluster.tenants) },
        ShutdownSignalHook,
      ],
      exports: [API_CONFIG, LOGGER, METRICS, ApiKeyRegistry, SHUTDOWN_SIGNAL, TenantSettings],
    };
  }
}
