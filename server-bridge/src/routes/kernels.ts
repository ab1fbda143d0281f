/**
 * Cluster kernels: `GET /kernels/specs`, `GET/POST /kernels`, `GET/DELETE /kernels/{id}`,
 * `PUT /kernels/{id}/lease`, `GET /admin/kernels`, and the channel relay
 * `GET /kernels/{id}/channels/{channel}` (a WebSocket piped, binary, to the kernel's Unix
 * socket over the owner's SSH connection). Owner only: another user's kernel answers 404,
 * before any upgrade.
 */
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { ZodType } from 'zod';
import {
  API_PREFIX,
  ClusterKernelSchema,
  ErrorBodySchema,
  KernelChannelParamsSchema,
  KernelIdParamsSchema,
  KernelLeaseSchema,
  KernelListSchema,
  KernelSpecListSchema,
  KernelStartSchema,
  Routes,
  type KernelChannel
} from '../contract';
import { policy } from '../auth/policy';
import { DomainError } from '../domain-error';
import { userOf } from '../auth/plugin';
import type { KernelService } from '../kernels/service';
import {
  authErrorResponses,
  declareRoute,
  type IRouteContext
} from './context';

export interface IKernelsContext extends IRouteContext {
  kernels: KernelService;
}

const ownedErrors = { ...authErrorResponses, 404: ErrorBodySchema } as const;

/** A route on one kernel (`:id`): its owner only, 404 to anyone else. */
function ownedKernel<R extends Record<number, ZodType>>(
  summary: string,
  response: R
) {
  return declareRoute('kernels', policy.owned('kernel'), {
    summary,
    params: KernelIdParamsSchema,
    response: { ...ownedErrors, ...response }
  });
}

const KERNEL = `${API_PREFIX}/kernels/:id`;

/** Bytes a channel may have waiting for a slow WebSocket client before the kernel side pauses. */
const MAX_BUFFERED = 4 * 1024 * 1024;

export const kernelsRoutes: FastifyPluginAsyncZod<IKernelsContext> = async (
  app,
  { kernels }
) => {
  app.get(
    Routes.kernelSpecs,
    declareRoute('kernels', policy.user(), {
      summary: 'Kernel specs of the profiles offered as cluster kernels',
      response: { 200: KernelSpecListSchema, ...authErrorResponses }
    }),
    async request => ({ specs: kernels.specs(userOf(request)) })
  );

  app.get(
    Routes.kernels,
    declareRoute('kernels', policy.user(), {
      summary: 'My cluster kernels, newest first',
      response: { 200: KernelListSchema, ...authErrorResponses }
    }),
    async request => ({ kernels: kernels.list(userOf(request)) })
  );

  app.post(
    Routes.kernels,
    declareRoute('kernels', policy.user(), {
      summary: 'Start a cluster kernel: a SLURM job of mine running ipykernel',
      description:
        "Checked as batch jobs are: the profile's limits (400), the tiers' data-class rules (403 policy_refused). The HMAC key goes to a 0600 connection file in a 0700 folder of my cluster account and nowhere else. Answers the kernel `pending`; it is `running` once ipykernel listens. Lease it (`PUT …/lease`) at least every `kernels.leaseSeconds` or it is cancelled.",
      body: KernelStartSchema,
      response: {
        201: ClusterKernelSchema,
        ...authErrorResponses,
        404: ErrorBodySchema,
        412: ErrorBodySchema
      }
    }),
    async (request, reply) =>
      reply.status(201).send(await kernels.start(userOf(request), request.body))
  );

  app.get(
    KERNEL,
    ownedKernel('One of my cluster kernels', { 200: ClusterKernelSchema }),
    async request => kernels.get(userOf(request), request.params.id)
  );
  app.delete(
    KERNEL,
    ownedKernel(
      'Shut a cluster kernel down: scancel as me, its runtime folder removed',
      { 200: ClusterKernelSchema }
    ),
    async request => kernels.stop(userOf(request), request.params.id)
  );
  app.put(
    `${KERNEL}/lease`,
    ownedKernel(
      "The launcher's heartbeat: keeps the kernel alive. A kernel without a lease for `kernels.leaseSeconds` is cancelled (its launcher or notebook server is gone); 409 once it has ended (details: state, endedReason).",
      { 200: KernelLeaseSchema, 409: ErrorBodySchema }
    ),
    async request => kernels.lease(userOf(request), request.params.id)
  );

  app.get(
    Routes.adminKernels,
    declareRoute('admin', policy.admin(), {
      summary: 'Every cluster kernel that has not ended, with owner, node, job',
      response: { 200: KernelListSchema, ...authErrorResponses }
    }),
    async () => ({ kernels: kernels.listActive() })
  );

  const streams = new WeakMap<FastifyRequest, Duplex>();
  app.route({
    method: 'GET',
    url: `${KERNEL}/channels/:channel`,
    ...declareRoute('kernels', policy.owned('kernel'), {
      summary:
        "A WebSocket to one of my kernel's ZMQ channels (binary frames, raw bytes)",
      description:
        '404 for a kernel that is not mine, 409 until it runs, 400 without `Upgrade: websocket`; all before any upgrade.',
      params: KernelChannelParamsSchema,
      response: { ...ownedErrors, 409: ErrorBodySchema }
    }),
    preHandler: async request => {
      const { id, channel } = request.params;
      if (!request.ws) {
        kernels.channel(userOf(request), id, channel);
        return;
      }
      const stream = await kernels.openChannel(userOf(request), id, channel);
      streams.set(request, stream);
      // Also when the upgrade does not happen: the SSH channel is not left open.
      request.raw.socket.once('close', () => stream.destroy());
    },
    handler: async () => {
      throw new DomainError(
        'bad_request',
        'This is a WebSocket: connect with Upgrade: websocket'
      );
    },
    wsHandler: (socket, request) => {
      const stream = streams.get(request);
      if (stream === undefined) {
        socket.close(1011, 'no kernel stream');
        return;
      }
      const { id, channel } = request.params;
      relay(socket, stream, {
        toKernel: () => activity(kernels, id, channel, 'request'),
        fromKernel: () => activity(kernels, id, channel, 'reply')
      });
    }
  });
};

/** Shell and stdin traffic is activity; a shell request without its reply yet is a busy kernel. */
function activity(
  kernels: KernelService,
  id: string,
  channel: KernelChannel,
  direction: 'request' | 'reply'
): void {
  if (channel === 'shell') {
    kernels.touch(id, direction);
  } else if (channel === 'stdin') {
    kernels.touch(id);
  }
}

/** Pipes a WebSocket and the kernel's socket both ways; either closing closes the other. */
function relay(
  socket: WebSocket,
  stream: Duplex,
  seen: { toKernel: () => void; fromKernel: () => void }
): void {
  socket.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    seen.toKernel();
    const chunk = Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.isBuffer(data)
        ? data
        : Buffer.from(data);
    if (!stream.write(chunk)) {
      socket.pause();
      stream.once('drain', () => socket.resume());
    }
  });
  stream.on('data', (chunk: Buffer) => {
    seen.fromKernel();
    socket.send(chunk, { binary: true });
    if (socket.bufferedAmount > MAX_BUFFERED) {
      stream.pause();
      const wait = setInterval(() => {
        if (socket.bufferedAmount <= MAX_BUFFERED / 2) {
          clearInterval(wait);
          stream.resume();
        }
      }, 10);
      socket.once('close', () => clearInterval(wait));
    }
  });
  const end = (): void => {
    stream.destroy();
    if (
      socket.readyState === socket.OPEN ||
      socket.readyState === socket.CONNECTING
    ) {
      socket.close(1000, 'kernel channel closed');
    }
  };
  stream.on('close', end);
  stream.on('error', end);
  socket.on('close', end);
  socket.on('error', end);
}
