/**
 * One error shape for every response: `{error: {code, message, details?}}`.
 * 4xx messages pass through; 5xx details are logged, never shown.
 */
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest
} from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  ResponseSerializationError
} from 'fastify-type-provider-zod';
import type { ErrorBody, ErrorCode } from './contract';
import { DomainError } from './domain-error';

const STATUS_OF: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  upstream_unavailable: 503,
  cluster_auth_failed: 412,
  quota_exceeded: 413,
  policy_refused: 403,
  course_limit: 429,
  internal: 500
};

/** The HTTP status that answers an error of `code`. */
export const statusOf = (code: ErrorCode): number => STATUS_OF[code];

/**
 * An error of the HTTP layer; `statusCode` overrides the code's status where HTTP has a
 * more precise one (411, 416).
 */
export class HttpError extends DomainError {
  readonly statusCode: number;

  constructor(
    code: ErrorCode,
    message: string,
    details?: unknown,
    statusCode?: number
  ) {
    super(code, message, details);
    this.name = 'HttpError';
    this.statusCode = statusCode ?? STATUS_OF[code];
  }
}

/** The status that answers `error`: its code's, or the HTTP layer's override. */
export function statusOfError(error: DomainError): number {
  return error instanceof HttpError ? error.statusCode : STATUS_OF[error.code];
}

export function errorBody(
  code: ErrorCode,
  message: string,
  details?: unknown
): ErrorBody {
  return {
    error:
      details === undefined ? { code, message } : { code, message, details }
  };
}

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 401:
      return 'unauthenticated';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 429:
      return 'rate_limited';
    default:
      return 'bad_request';
  }
}

function handleError(
  error: FastifyError | DomainError | Error,
  request: FastifyRequest,
  reply: FastifyReply
): void {
  if (error instanceof DomainError) {
    const status = statusOfError(error);
    if (status >= 500) {
      request.log.warn(
        { code: error.code, reason: error.message },
        'request failed upstream'
      );
    }
    if (status === 401) {
      void reply.header('www-authenticate', 'token');
    }
    void reply
      .status(status)
      .send(errorBody(error.code, error.message, error.details));
    return;
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    void reply.status(400).send(
      errorBody(
        'bad_request',
        'Request validation failed',
        error.validation.map(v => ({
          in: error.validationContext,
          path: v.instancePath,
          message: v.message
        }))
      )
    );
    return;
  }
  if (error instanceof ResponseSerializationError) {
    request.log.error(
      { err: error, issues: error.cause.issues },
      'response does not match its schema'
    );
    void reply.status(500).send(errorBody('internal', 'Internal error'));
    return;
  }
  const status =
    'statusCode' in error && typeof error.statusCode === 'number'
      ? error.statusCode
      : 500;
  if (status >= 400 && status < 500) {
    void reply
      .status(status)
      .send(errorBody(codeForStatus(status), error.message));
    return;
  }
  request.log.error({ err: error }, 'unhandled error');
  void reply.status(500).send(errorBody('internal', 'Internal error'));
}

/** Installs the central error handler and the 404 handler. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send(
        errorBody(
          'not_found',
          `No route ${request.method} ${request.url.split('?')[0] ?? ''}`
        )
      );
  });
}
