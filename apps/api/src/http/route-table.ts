import type { FastifyInstance, FastifyRequest } from 'fastify';

/** One registered path and the methods it answers. */
interface RouteEntry {
  pattern: RegExp;
  methods: Set<string>;
}

/**
 * The routes of one Fastify instance, collected as they are registered, to tell an unknown path
 * (404) from a known path asked with a method it does not serve (405 with `Allow`).
 */
export class RouteTable {
  private readonly entries = new Map<string, RouteEntry>();

  add(methods: string | string[], url: string): void {
    let e = this.entries.get(url);
    if (!e) {
      e = { pattern: routePattern(url), methods: new Set() };
      this.entries.set(url, e);
    }
    for (const m of Array.isArray(methods) ? methods : [methods]) e.methods.add(m.toUpperCase());
  }

  /** Every `[method, url]` registered, in registration order. */
  routes(): [string, string][] {
    return [...this.entries.entries()].flatMap(([url, e]) =>
      [...e.methods].map((m): [string, string] => [m, url]),
    );
  }

  /** Methods some route serves at `path` (no query), sorted; empty for an unknown path. */
  allowed(path: string): string[] {
    const out = new Set<string>();
    for (const e of this.entries.values()) if (e.pattern.test(path)) e.methods.forEach((m) => out.add(m));
    return [...out].sort();
  }
}

/** `/v1/jobs/:id/events` → a regex matching `/v1/jobs/<one segment>/events`. */
function routePattern(url: string): RegExp {
  const parts = url.split('/').map((seg) => {
    if (seg.startsWith(':')) return '[^/]+';
    if (seg === '*') return '.*';
    return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${parts.join('/')}/?$`);
}

const tables = new WeakMap<FastifyInstance, RouteTable>();

/** Collects the routes registered on `fastify` from now on (call before the app initialises). */
export function trackRoutes(fastify: FastifyInstance): void {
  const table = new RouteTable();
  tables.set(fastify, table);
  fastify.addHook('onRoute', (route) => table.add(route.method, route.url ?? route.path));
}

/** Every `[method, url]` registered on `fastify` (after {@link trackRoutes}), e.g. to check a document covers them. */
export function registeredRoutes(fastify: FastifyInstance): [string, string][] {
  return tables.get(fastify)?.routes() ?? [];
}

/** Methods served at the request's path by any route (for a 405's `Allow`); empty when unknown. */
export function allowedMethods(request: FastifyRequest): string[] {
  const table = tables.get(request.server);
  return table ? table.allowed(request.url.split('?')[0] ?? '') : [];
}
