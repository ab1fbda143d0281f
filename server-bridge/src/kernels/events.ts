/**
 * The bus of cluster kernel changes, for the owners' SSE streams: in-process, or through
 * the event log every replica tails (see `JobEvents`).
 */
import { ClusterKernelSchema, type ClusterKernel } from '../contract';
import type { EventLog } from '../replicas/event-log';

const TOPIC = 'kernel';

type Listener = (kernel: ClusterKernel, id?: number) => void;

export class KernelEvents {
  private readonly listeners = new Set<Listener>();

  constructor(private readonly log?: EventLog) {
    log?.subscribe(TOPIC, row => {
      this.deliver(ClusterKernelSchema.parse(row.payload), row.id);
    });
  }

  emit(kernel: ClusterKernel): void {
    if (this.log === undefined) {
      this.deliver(kernel);
    } else {
      this.log.publish(TOPIC, kernel.owner, kernel);
    }
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** `owner`'s kernel changes after event `id`; none without a log. */
  since(id: number, owner: string): { id: number; kernel: ClusterKernel }[] {
    return (this.log?.replay(id, TOPIC, owner) ?? []).map(row => ({
      id: row.id,
      kernel: ClusterKernelSchema.parse(row.payload)
    }));
  }

  private deliver(kernel: ClusterKernel, id?: number): void {
    this.listeners.forEach(listener => listener(kernel, id));
  }
}
