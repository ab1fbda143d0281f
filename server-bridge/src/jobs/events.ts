/**
 * The event bus between the poller/job service and the SSE streams. Without an event
 * log it is in-process; with one, every replica's streams get every job's changes, each
 * with the id a reconnecting stream resumes from.
 */
import { EventEmitter } from 'node:events';
import { JobSchema, type Job } from '../contract';
import type { EventLog } from '../replicas/event-log';

const TOPIC = 'job';

export type JobListener = (job: Job, id?: number) => void;

export class JobEvents {
  private readonly emitter = new EventEmitter();

  constructor(private readonly log?: EventLog) {
    // One listener per open SSE stream; hundreds are expected.
    this.emitter.setMaxListeners(0);
    // One parse per event, one object for every stream (they cache its frame).
    log?.subscribe(TOPIC, row => {
      this.emitter.emit(TOPIC, JobSchema.parse(row.payload), row.id);
    });
  }

  emit(job: Job): void {
    if (this.log === undefined) {
      this.emitter.emit(TOPIC, job);
    } else {
      this.log.publish(TOPIC, job.owner, job);
    }
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: JobListener): () => void {
    this.emitter.on(TOPIC, listener);
    return () => {
      this.emitter.off(TOPIC, listener);
    };
  }

  /** The changes after event `id` (`owner`'s only, when given); none without a log. */
  since(id: number, owner?: string): { id: number; job: Job }[] {
    return (this.log?.replay(id, TOPIC, owner) ?? []).map(row => ({
      id: row.id,
      job: JobSchema.parse(row.payload)
    }));
  }

  /** Whether every event after `id` can be replayed (none deleted since); false without a log. */
  replaysAfter(id: number): boolean {
    return this.log?.keepsAfter(id) ?? false;
  }

  listenerCount(): number {
    return this.emitter.listenerCount(TOPIC);
  }
}
