import type { Request, Response, Router } from 'express';
import type { z } from 'zod';
import { InvalidParamsError } from '../lib/errors';
import type { Caller } from '../lib/access/caller';
import { detailsOf, holdBackJsonErrors, validBody, type Admit } from './admin-gate';
import type { RouteSpec } from './route-specs';

/** What a route's handler gets: the checks of its declaration passed. */
export interface Served<S extends RouteSpec> {
  req: Request;
  res: Response;
  /** The admin, once the gate let them in (absent on a public route). */
  caller: S['access'] extends 'public' ? undefined : Caller;
  body: S['body'] extends { schema: infer B extends z.ZodType } ? z.infer<B> : undefined;
  query: S['query'] extends infer Q extends z.ZodObject ? z.infer<Q> : undefined;
  params: Record<string, string>;
}

/** An answer with a status other than the declaration's success (the health route's 503). */
export class WithStatus {
  constructor(
    readonly status: number,
    readonly body: object,
  ) {}
}

/** What a handler answers: the body, sent with the declaration's success status, or a WithStatus. */
export type Answer = object | WithStatus;

export interface ServeDeps {
  admit: Admit;
  bodyLimitBytes: number;
}

/**
 * Registers a declared route: the gate its `access` names (answered first), then its body and query,
 * checked by the declaration's schemas, then the handler, whose answer goes out with the route's success
 * status.
 */
export function serve<S extends RouteSpec>(
  router: Router,
  route: S,
  deps: ServeDeps,
  handle: (served: Served<S>) => Promise<Answer>,
): void {
  const parseBody = route.body ? [holdBackJsonErrors(deps.bodyLimitBytes)] : [];
  router[route.method](route.path, ...parseBody, async (req: Request, res: Response) => {
    const caller = route.access === 'public' ? undefined : await deps.admit(req, route.access);
    const body = route.body
      ? validBody(req, res, route.body.schema, deps.bodyLimitBytes, { optional: !route.body.required })
      : undefined;
    let query: unknown;
    if (route.query) {
      const parsed = route.query.safeParse(req.query);
      if (!parsed.success) throw new InvalidParamsError(detailsOf(parsed.error.issues));
      query = parsed.data;
    }
    const answer = await handle({
      req,
      res,
      caller,
      body,
      query,
      params: req.params as Record<string, string>,
    } as Served<S>);
    if (answer instanceof WithStatus) res.status(answer.status).json(answer.body);
    else res.status(route.success.status).json(answer);
  });
}
