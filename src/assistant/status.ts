import type { AssistantEndpoint } from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';
import { messageOf } from '../ui/format';
import { AssistantError } from './api';

/** What the status item and the messages say about the assistant: plain functions, no DOM. */
export namespace AssistantStatus {
  export const MARK = '✦';

  /** `1,234` */
  export function count(n: number): string {
    return n.toLocaleString('en-US');
  }

  /** `✦ tiny-random · 1,234 tokens left`, `… · no budget`, `… · unavailable`. */
  export function text(
    endpoint: AssistantEndpoint,
    problem: string | null,
    trans: TranslationBundle
  ): string {
    let detail: string;
    if (problem !== null) {
      detail = trans.__('unavailable');
    } else if (endpoint.tokensLeft === null) {
      detail = trans.__('no budget');
    } else {
      detail = trans._n(
        '%1 token left',
        '%1 tokens left',
        endpoint.tokensLeft,
        count(endpoint.tokensLeft)
      );
    }
    return `${MARK} ${endpoint.model} · ${detail}`;
  }

  /** The item's tooltip: the endpoint, why it is unavailable, and what a click does. */
  export function title(
    endpoint: AssistantEndpoint,
    problem: string | null,
    trans: TranslationBundle
  ): string {
    const what = endpoint.course
      ? trans.__('Assistant: %1 (course %2)', endpoint.name, endpoint.course)
      : trans.__('Assistant: %1', endpoint.name);
    const parts = [what];
    if (problem !== null) {
      parts.push(problem);
    }
    parts.push(trans.__('Click to choose the endpoint or open the chat.'));
    return parts.join('\n');
  }

  /** A model call's failure in words: a spent budget and a revoked key say so. */
  export function errorText(error: unknown, trans: TranslationBundle): string {
    const message = messageOf(error);
    if (!(error instanceof AssistantError)) {
      return message;
    }
    if (error.code === 'insufficient_quota') {
      return trans.__(
        'Your token budget for the assistant is spent (%1).',
        message
      );
    }
    if (error.status === 401 || error.code === 'invalid_api_key') {
      return trans.__(
        "The assistant's key was revoked or is no longer valid (%1).",
        message
      );
    }
    if (error.status === 429) {
      return trans.__(
        'Too many requests to the assistant: wait a moment (%1).',
        message
      );
    }
    return message;
  }
}
