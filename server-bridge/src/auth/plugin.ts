import type {
  FastifyInstance,
  FastifyRequest,
  onRequestAsyncHookHandler
} from 'fastify';
import { HttpError } from '../errors';
import type { IAuthUser } from './decide';
import type { HubAuth } from './hub-auth';

declare module 'fastify' {
  // eslint-disable-next-line @typescript-eslint/naming-convention -- augments Fastify's own interface
  interface FastifyRequest {
    /** Set by the auth hook on authenticated routes. */
    hpcUser: IAuthUser | null;
  }
}

export function decorateUser(app: FastifyInstance): void {
  app.decorateRequest('hpcUser', null);
}

/**
 * The onRequest hook of every authenticated route (runs before validation). Only `Authorization` is read:
 * forwarded-identity headers (X-Forwarded-User, X-Remote-User, …) are ignored.
 */
export function authHook(auth: HubAuth): onRequestAsyncHookHandler {
  return async request => {
    request.hpcUser = await auth.authenticate(request.headers.authorization);
  };
}

/** The authenticated user of a request; a route without the auth hook gets a 401. */
export function userOf(request: FastifyRequest): IAuthUser {
  if (request.hpcUser === null) {
    throw new HttpError('unauthenticated', 'Authentication required');
  }
  return request.hpcUser;
}
