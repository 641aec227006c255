import type { Router } from 'express';
import { MethodNotAllowedError, RouteNotFoundError } from '../lib/errors';

/** What this module reads of Express's router: its routes, each with a path and the methods it answers. */
interface RouteLayer {
  route?: { path: unknown; methods: Record<string, boolean> };
}

/**
 * Answers, in the module's JSON error shape, what the routes registered so far under `prefix` do not: a
 * route's path with another method gets 405 (with Allow), any other path under the prefix 404. Paths
 * outside the prefix go on to the host. Call it after the last route.
 */
export function answerUnknownRoutes(router: Router, prefix: string): void {
  const methodsByPath = new Map<string, Set<string>>();
  for (const { route } of router.stack as RouteLayer[]) {
    if (!route || typeof route.path !== 'string' || !route.path.startsWith(prefix)) continue;
    const methods = methodsByPath.get(route.path) ?? new Set<string>();
    for (const [method, answered] of Object.entries(route.methods))
      if (answered && method !== '_all') methods.add(method.toUpperCase());
    methodsByPath.set(route.path, methods);
  }
  for (const [path, methods] of methodsByPath) {
    // Express answers HEAD with a GET route.
    const allow = [...methods, ...(methods.has('GET') ? ['HEAD'] : [])].sort();
    router.all(path, () => {
      throw new MethodNotAllowedError(allow);
    });
  }
  router.all(`${prefix}{/*rest}`, () => {
    throw new RouteNotFoundError();
  });
}
