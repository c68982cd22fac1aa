/** Injection tokens of the webhook module. */
export const WEBHOOK_QUEUE_PRODUCER = Symbol('WEBHOOK_QUEUE_PRODUCER');
export const WEBHOOK_DEAD_LETTERS = Symbol('WEBHOOK_DEAD_LETTERS');
