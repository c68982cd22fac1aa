/** Injection tokens of the values the app factory hands to Nest. */
export const LOGGER = Symbol('LOGGER');
export const METRICS = Symbol('METRICS');
export const REDIS_PRODUCER = Symbol('REDIS_PRODUCER');
export const REDIS_SUBSCRIBER = Symbol('REDIS_SUBSCRIBER');
export const REDIS_QUEUES = Symbol('REDIS_QUEUES');
export const SHUTDOWN_SIGNAL = Symbol('SHUTDOWN_SIGNAL');
/** The parsed {@link ApiConfig} (see `config/api-config.ts`). */
export const API_CONFIG = Symbol('API_CONFIG');
