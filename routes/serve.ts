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

/** Reads a route begins before its gate answers, handed to its handler, or abandoned on a refusal. */
export interface Begun {
  abandon(): Promise<void>;
}

export interface ServeDeps {
  admit: Admit;
  bodyLimitBytes: number;
}

/**
 * Registers a declared route: the gate its `access` names (answered first), then its body and query,
 * checked by the declaration's schemas, then the handler, whose answer goes out with the route's success
 * status. The body is checked before the gate but refused only after it. `begin`, when given, may start the
 * route's reads on a valid body before the gate answers (never a write or an answer); what it began goes
 * to the handler, or is abandoned when the gate, the body or the query refuses the request.
 */
export function serve<S extends RouteSpec, B extends Begun = never>(
  router: Router,
  route: S,
  deps: ServeDeps,
  handle: (served: Served<S> & { begun: B | undefined }) => Promise<Answer>,
  begin?: (req: Request, body: Served<S>['body']) => B | undefined,
): void {
  const parseBody = route.body ? [holdBackJsonErrors(deps.bodyLimitBytes)] : [];
  router[route.method](route.path, ...parseBody, async (req: Request, res: Response) => {
    const body = checked(() =>
      route.body
        ? validBody(req, res, route.body.schema, deps.bodyLimitBytes, { optional: !route.body.required })
        : undefined,
    );
    const begun = 'value' in body ? begin?.(req, body.value as Served<S>['body']) : undefined;
    let caller: Caller | undefined;
    let query: unknown;
    try {
      caller = route.access === 'public' ? undefined : await deps.admit(req, route.access);
      if ('error' in body) throw body.error;
      if (route.query) {
        const parsed = route.query.safeParse(req.query);
        if (!parsed.success) throw new InvalidParamsError(detailsOf(parsed.error.issues));
        query = parsed.data;
      }
    } catch (error) {
      // Not awaited: a refusal is answered at once, whatever the reads begun for it are doing.
      void begun?.abandon();
      throw error;
    }
    const answer = await handle({
      req,
      res,
      caller,
      body: body.value,
      query,
      params: req.params as Record<string, string>,
      begun,
    } as Served<S> & { begun: B | undefined });
    if (answer instanceof WithStatus) res.status(answer.status).json(answer.body);
    else res.status(route.success.status).json(answer);
  });
}

/** What `check` gives, or the error it throws (thrown later, once the gate has answered). */
function checked<T>(check: () => T): { value: T } | { error: unknown; value?: undefined } {
  try {
    return { value: check() };
  } catch (error) {
    return { error };
  }
}
