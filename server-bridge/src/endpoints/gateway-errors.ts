/** The gateway's errors in OpenAI's shape, its own and a model server's. */
import { z } from 'zod';
import { DomainError } from '../domain-error';
import { statusOfError } from '../errors';

/** Longest upstream error message passed on (longer ones are cut). */
const MAX_UPSTREAM_MESSAGE = 2000;

/** OpenAI's error shape; clients (the `openai` packages) parse it. */
export interface IOpenAIErrorBody {
  error: {
    message: string;
    type: string;
    param: string | null;
    code: string | null;
  };
}

export class OpenAIError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly type: string,
    readonly code: string | null,
    readonly headers: Record<string, string> = {},
    /** The request body's field at fault. */
    readonly param: string | null = null
  ) {
    super(message);
    this.name = 'OpenAIError';
  }

  body(): IOpenAIErrorBody {
    return {
      error: {
        message: this.message,
        type: this.type,
        param: this.param,
        code: this.code
      }
    };
  }
}

const UpstreamErrorSchema = z.looseObject({
  error: z
    .union([
      z.string(),
      z.looseObject({
        message: z.string().optional(),
        type: z.string().optional(),
        param: z.string().nullish(),
        code: z.union([z.string(), z.number()]).nullish()
      })
    ])
    .optional(),
  message: z.string().optional(),
  detail: z.string().optional()
});

/**
 * A model server's error in OpenAI's exact shape: llama-server sends a numeric `code`
 * and no `param`, other servers `{detail}` or plain text. `status` decides the type
 * where the model server gives none (and always for 5xx: `server_error`).
 */
export function normaliseUpstreamError(
  status: number,
  upstream: unknown
): IOpenAIErrorBody {
  const parsed = UpstreamErrorSchema.safeParse(upstream);
  const e = parsed.success ? parsed.data.error : undefined;
  const detail = typeof e === 'object' ? e : undefined;
  const message =
    (typeof e === 'string' ? e : detail?.message) ??
    (parsed.success
      ? (parsed.data.message ?? parsed.data.detail)
      : undefined) ??
    `The model server answered HTTP ${status}.`;
  const type =
    status >= 500
      ? 'server_error'
      : (detail?.type ??
        (status === 429 ? 'rate_limit_exceeded' : 'invalid_request_error'));
  return {
    error: {
      message:
        message.length > MAX_UPSTREAM_MESSAGE
          ? `${message.slice(0, MAX_UPSTREAM_MESSAGE)}…`
          : message,
      type,
      param: detail?.param ?? null,
      code: typeof detail?.code === 'string' ? detail.code : null
    }
  };
}

/** Any error as OpenAI's error: ours, the router's DomainErrors, Fastify's 4xx. */
export function toOpenAIError(error: unknown): OpenAIError {
  if (error instanceof OpenAIError) {
    return error;
  }
  if (error instanceof DomainError) {
    const status = statusOfError(error);
    return new OpenAIError(
      status,
      error.message,
      status >= 500 ? 'server_error' : 'invalid_request_error',
      status === 503 ? 'endpoint_unavailable' : error.code
    );
  }
  const status =
    error instanceof Error &&
    'statusCode' in error &&
    typeof error.statusCode === 'number'
      ? error.statusCode
      : 500;
  if (status >= 400 && status < 500 && error instanceof Error) {
    return new OpenAIError(
      status,
      error.message,
      'invalid_request_error',
      status === 413 ? 'request_too_large' : null
    );
  }
  return new OpenAIError(500, 'Internal error', 'server_error', null);
}
