import type { FastifyReply } from 'fastify';

/** A request's abort signal and whether it fired because the client left. */
export interface RequestAbort {
  signal: AbortSignal;
  clientGone(): boolean;
}

/**
 * Aborts when the client disconnects before its response finished, or when `shutdown` aborts
 * (the server is stopping). A `close` after the response finished aborts nothing: there is nobody
 * left to tell, and an abort would only build an AbortError per request. The shutdown listener is
 * removed when the response closes, so long-lived servers do not collect one per request.
 */
export function requestAbort(reply: FastifyReply, shutdown: AbortSignal): RequestAbort {
  const controller = new AbortController();
  let left = false;
  if (shutdown.aborted) controller.abort();
  const onShutdown = (): void => controller.abort();
  shutdown.addEventListener('abort', onShutdown, { once: true });
  reply.raw.once('close', () => {
    shutdown.removeEventListener('abort', onShutdown);
    if (reply.raw.writableFinished) return;
    left = true;
    controller.abort();
  });
  return { signal: controller.signal, clientGone: () => left };
}
