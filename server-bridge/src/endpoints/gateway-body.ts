/** What the gateway reads of a request body, and the upstream body it builds from it. */
import { z } from 'zod';
import { DEFAULT_DEFAULT_MAX_TOKENS, DEFAULT_MAX_TOKENS } from '../config';
import { OpenAIError } from './gateway-errors';

/** The paths under `/v1` that go to the model server. */
export const FORWARDED_PATHS = [
  'chat/completions',
  'completions',
  'embeddings'
] as const;
export type ForwardedPath = (typeof FORWARDED_PATHS)[number];

/** Deepest nesting of arrays and objects a request body may have. */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether a JSON text nests arrays and objects deeper than `max`; a scan without
 * recursion, so that any depth is safe to check before the text is parsed.
 */
export function jsonDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) {
        i += 1; // the escaped character
      } else if (c === 0x22) {
        inString = false;
      }
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      depth += 1;
      if (depth > max) {
        return true;
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth -= 1;
    }
  }
  return false;
}

const POSITIVE_INTEGER = 'must be a positive integer';
const count = z
  .number({ error: POSITIVE_INTEGER })
  .int({ error: POSITIVE_INTEGER })
  .positive({ error: POSITIVE_INTEGER })
  .nullish();

/** What the gateway reads of a request body; everything else passes unchanged. */
export const GatewayBodySchema = z.looseObject({
  model: z.string().optional(),
  stream: z.boolean().nullish(),
  stream_options: z
    .looseObject({ include_usage: z.boolean().optional() })
    .nullish(),
  max_tokens: count,
  max_completion_tokens: count,
  /** llama-server's own name for max_tokens (it wins there when both are sent). */
  n_predict: count,
  /** Choices per request: each may run to max_tokens. */
  n: count,
  best_of: count
});
export type GatewayBody = z.infer<typeof GatewayBodySchema>;

/** The completion-token limits of a catalog model. */
export interface ITokenLimits {
  /** `max_tokens` of a request that sets none. */
  defaultMaxTokens: number;
  /** Most a request may ask for. */
  maxTokens: number;
}

export const DEFAULT_TOKEN_LIMITS: ITokenLimits = {
  defaultMaxTokens: DEFAULT_DEFAULT_MAX_TOKENS,
  maxTokens: DEFAULT_MAX_TOKENS
};

/** A request checked and ready to go: the upstream body and what it may cost. */
export interface IPreparedRequest {
  model: string;
  payload: Buffer;
  streaming: boolean;
  clientWantsUsage: boolean;
  /** The prompt's tokens at most: the upstream body's size in bytes. */
  promptEstimate: number;
  /** The completion's tokens at most: max_tokens × choices (0 for embeddings). */
  completionMax: number;
}

/**
 * Checks a request's body against the model's limits and builds what goes upstream:
 * the endpoint's model, `max_tokens` (the model's default when the request sets
 * none; the smallest of max_tokens, max_completion_tokens and n_predict otherwise,
 * written to each of them that was sent), usage asked for on streams.
 */
export function prepareRequest(
  model: string,
  path: ForwardedPath,
  request: GatewayBody,
  limitsOf: (model: string) => ITokenLimits
): IPreparedRequest {
  const streaming = request.stream === true;
  const clientWantsUsage = request.stream_options?.include_usage === true;
  const body: GatewayBody = { ...request, model };
  let completionMax = 0;
  if (path !== 'embeddings') {
    const limits = limitsOf(model);
    const fields = [
      'max_tokens',
      'max_completion_tokens',
      'n_predict'
    ] as const;
    const asked = fields
      .map(f => request[f])
      .filter((v): v is number => typeof v === 'number');
    const maxTokens =
      asked.length === 0 ? limits.defaultMaxTokens : Math.min(...asked);
    if (maxTokens > limits.maxTokens) {
      throw new OpenAIError(
        400,
        `max_tokens is ${maxTokens}; the model ${model} allows at most ${limits.maxTokens}.`,
        'invalid_request_error',
        'invalid_value',
        {},
        fields.find(f => request[f] === maxTokens) ?? 'max_tokens'
      );
    }
    body.max_tokens = maxTokens;
    for (const f of fields) {
      if (typeof request[f] === 'number') {
        body[f] = maxTokens;
      }
    }
    completionMax = maxTokens * Math.max(request.n ?? 1, request.best_of ?? 1);
  }
  if (streaming) {
    body.stream_options = {
      ...(request.stream_options ?? {}),
      include_usage: true
    };
  }
  const payload = Buffer.from(JSON.stringify(body));
  return {
    model,
    payload,
    streaming,
    clientWantsUsage,
    promptEstimate: payload.length,
    completionMax
  };
}
