/** Server-sent events of `GET /api/v1/events` (`event: <type>`, `data: <json>`). */
import { z } from 'zod';
import { JobSchema } from './jobs';
import { ClusterKernelSchema } from './kernels';

export const BridgeEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('job'), job: JobSchema }),
  /** A cluster kernel changed state (pending → starting → running → ended…). */
  z.object({ type: z.literal('kernel'), kernel: ClusterKernelSchema }),
  z.object({ type: z.literal('ping'), at: z.iso.datetime() })
]);
export type BridgeEvent = z.infer<typeof BridgeEventSchema>;
