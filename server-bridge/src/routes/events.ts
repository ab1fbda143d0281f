import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Routes, type BridgeEvent, type Job } from '../contract';
import { policy } from '../auth/policy';
import type { IAuthUser } from '../auth/decide';
import { userOf } from '../auth/plugin';
import { REPLAY_LIMIT } from '../replicas/event-log';
import { authErrorResponses, SECURITY, type IJobsContext } from './context';

const PING_MS = 15_000;
/** Set when the stream resumed from `Last-Event-ID` and replayed every event missed since. */
export const RESUMED_HEADER = 'x-events-resumed';
/**
 * Bytes a stream may have waiting in the bridge for a client that does not read. Beyond
 * it the stream is dropped (the panel reconnects and reloads its list), so one stalled
 * client cannot grow the bridge's memory without bound.
 */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

function frame(event: BridgeEvent, id?: number): string {
  const data = `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
  return id === undefined ? data : `id: ${id}\n${data}`;
}

/** Every stream gets the same job object: serialize it once, not once per subscriber. */
const jobFrames = new WeakMap<Job, string>();
function jobFrame(job: Job, id?: number): string {
  let text = jobFrames.get(job);
  if (text === undefined) {
    text = frame({ type: 'job', job }, id);
    jobFrames.set(job, text);
  }
  return text;
}

/** The id of the last event a reconnecting client got; undefined when absent or malformed. */
function lastEventId(
  header: string | string[] | undefined
): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && /^\d{1,15}$/.test(value.trim())
    ? Number(value.trim())
    : undefined;
}

/**
 * The events `user` missed after event `after`, oldest first, and whether they are all
 * of them (none deleted since, none beyond the replay's limit): then the client needs no
 * reload of its lists.
 */
function missed(
  ctx: IJobsContext,
  user: IAuthUser,
  after: number
): { events: { id: number; text: string }[]; complete: boolean } {
  const topics = [
    ctx.events
      .since(after, user.admin ? undefined : user.name)
      .map(e => ({ id: e.id, text: frame({ type: 'job', job: e.job }, e.id) })),
    (ctx.kernelEvents?.since(after, user.name) ?? []).map(e => ({
      id: e.id,
      text: frame({ type: 'kernel', kernel: e.kernel }, e.id)
    })),
    (ctx.endpointEvents?.since(after, user.name) ?? []).map(e => ({
      id: e.id,
      text: frame(e.event, e.id)
    }))
  ];
  return {
    events: topics.flat().sort((a, b) => a.id - b.id),
    complete:
      ctx.events.replaysAfter(after) &&
      topics.every(events => events.length < REPLAY_LIMIT)
  };
}

/** `GET /api/v1/events`: server-sent events of the user's jobs (admins: everyone's). */
export const eventsRoutes: FastifyPluginAsyncZod<IJobsContext> = async (
  app,
  ctx
) => {
  const open = new Set<() => void>();
  // SSE streams never go idle: end them before the server waits for connections to close.
  app.addHook('preClose', async () => {
    for (const end of [...open]) {
      end();
    }
  });

  app.get(
    Routes.events,
    {
      config: policy.user(),
      schema: {
        summary:
          'Server-sent events: `job` on every change of a job you may see, `kernel` on every change of one of your cluster kernels, `endpoint` when one of your serving endpoints is created, changes state or is deleted, `ping` every 15 s',
        description:
          'Each event is `event: <type>` + `data: <BridgeEvent JSON>`, job, kernel and endpoint events with an `id:`. Send the token as the Authorization header (use fetch streaming: EventSource cannot send headers). A client that reconnects with `Last-Event-ID` first gets the events it missed since (kept one hour, 1000 per type), then the live ones; the answer has `x-events-resumed: true` when that replay holds every event missed (else reload the lists).',
        tags: ['events'],
        security: SECURITY,
        produces: ['text/event-stream'],
        response: {
          200: z.string().describe('text/event-stream of BridgeEvent'),
          ...authErrorResponses
        }
      }
    },
    async (request, reply) => {
      const user = userOf(request);
      const resumeAfter = lastEventId(request.headers['last-event-id']);
      // Read before the first byte: whether the replay is complete goes in a header.
      const replay =
        resumeAfter === undefined ? undefined : missed(ctx, user, resumeAfter);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
        connection: 'keep-alive',
        ...(replay?.complete === true ? { [RESUMED_HEADER]: 'true' } : {})
      });
      const maxBuffered = ctx.sseMaxBufferedBytes ?? MAX_BUFFERED_BYTES;
      let end = (): void => undefined;
      const send = (text: string): void => {
        if (res.writableLength > maxBuffered) {
          request.log.warn(
            { user: user.name, buffered: res.writableLength },
            'event stream dropped: the client does not read'
          );
          end();
          res.destroy();
          return;
        }
        res.write(text);
      };
      const ping = (): void => {
        send(frame({ type: 'ping', at: new Date().toISOString() }));
      };
      ping();
      // Each event once and in order: a live one the replay already sent is skipped (the
      // replay reads the table, which may be ahead of this replica's tail).
      let lastSent = 0;
      const sendEvent = (text: string, id: number | undefined): void => {
        if (id !== undefined) {
          if (id <= lastSent) {
            return;
          }
          lastSent = id;
        }
        send(text);
      };
      const unsubscribe = ctx.events.subscribe((job: Job, id?: number) => {
        if (job.owner === user.name || user.admin) {
          sendEvent(jobFrame(job, id), id);
        }
      });
      const unsubscribeKernels =
        ctx.kernelEvents?.subscribe((kernel, id) => {
          if (kernel.owner === user.name) {
            sendEvent(frame({ type: 'kernel', kernel }, id), id);
          }
        }) ?? ((): void => undefined);
      const unsubscribeEndpoints =
        ctx.endpointEvents?.subscribe((event, id) => {
          if (event.endpoint.owner === user.name) {
            sendEvent(frame(event, id), id);
          }
        }) ?? ((): void => undefined);
      for (const e of replay?.events ?? []) {
        sendEvent(e.text, e.id);
      }
      const timer = setInterval(ping, ctx.pingMs ?? PING_MS);
      await new Promise<void>(resolve => {
        end = (): void => {
          if (open.delete(end)) {
            clearInterval(timer);
            unsubscribe();
            unsubscribeKernels();
            unsubscribeEndpoints();
            resolve();
          }
        };
        open.add(end);
        request.raw.on('close', end);
      });
      if (!res.destroyed) {
        res.end();
      }
      return reply;
    }
  );
};
