/**
 * The bus of serving endpoints' changes, for the owners' SSE streams: in-process, or
 * through the event log every replica tails (see `JobEvents`), so that an owner connected
 * to any replica sees the state the controller of another one gave the endpoint.
 */
import {
  type Endpoint,
  type EndpointEvent,
  EndpointEventSchema
} from '../contract';
import type { EventLog } from '../replicas/event-log';

const TOPIC = 'endpoint';

type Listener = (event: EndpointEvent, id?: number) => void;

export class EndpointEvents {
  private readonly listeners = new Set<Listener>();

  constructor(private readonly log?: EventLog) {
    log?.subscribe(TOPIC, row => {
      this.deliver(EndpointEventSchema.parse(row.payload), row.id);
    });
  }

  /** `endpoint` as its owner sees it after a change; `deleted` when it is gone. */
  emit(endpoint: Endpoint, deleted = false): void {
    const event: EndpointEvent = {
      type: 'endpoint',
      endpoint,
      ...(deleted ? { deleted } : {})
    };
    if (this.log === undefined) {
      this.deliver(event);
    } else {
      this.log.publish(TOPIC, endpoint.owner, event);
    }
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** `owner`'s endpoint changes after event `id`; none without a log. */
  since(id: number, owner: string): { id: number; event: EndpointEvent }[] {
    return (this.log?.replay(id, TOPIC, owner) ?? []).map(row => ({
      id: row.id,
      event: EndpointEventSchema.parse(row.payload)
    }));
  }

  private deliver(event: EndpointEvent, id?: number): void {
    this.listeners.forEach(listener => listener(event, id));
  }
}
