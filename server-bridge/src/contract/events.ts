/** Server-sent events of `GET /api/v1/events` (`event: <type>`, `data: <json>`). */
import { z } from 'zod';
import { EndpointSchema } from './endpoints';
import { JobSchema } from './jobs';
import { ClusterKernelSchema } from './kernels';

/** One of the user's serving endpoints was created, changed state or was deleted. */
export const EndpointEventSchema = z.object({
  type: z.literal('endpoint'),
  /** As its owner sees it, after the change (the last version when deleted). */
  endpoint: EndpointSchema,
  /** It no longer exists. */
  deleted: z.boolean().optional()
});
export type EndpointEvent = z.infer<typeof EndpointEventSchema>;

export const BridgeEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('job'), job: JobSchema }),
  /** A cluster kernel changed state (pending → starting → running → ended…). */
  z.object({ type: z.literal('kernel'), kernel: ClusterKernelSchema }),
  EndpointEventSchema,
  z.object({ type: z.literal('ping'), at: z.iso.datetime() })
]);
export type BridgeEvent = z.infer<typeof BridgeEventSchema>;
