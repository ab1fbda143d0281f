/** The in-process event bus between the poller/job service and the SSE streams. */
import { EventEmitter } from 'node:events';
import type { Job } from '../contract';

export class JobEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per open SSE stream; hundreds are expected.
    this.emitter.setMaxListeners(0);
  }

  emit(job: Job): void {
    this.emitter.emit('job', job);
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: (job: Job) => void): () => void {
    this.emitter.on('job', listener);
    return () => {
      this.emitter.off('job', listener);
    };
  }

  listenerCount(): number {
    return this.emitter.listenerCount('job');
  }
}
