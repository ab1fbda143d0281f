/** The in-process bus of cluster kernel changes, for the owner's SSE stream. */
import { EventEmitter } from 'node:events';
import type { ClusterKernel } from '../contract';

export class KernelEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  emit(kernel: ClusterKernel): void {
    this.emitter.emit('kernel', kernel);
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: (kernel: ClusterKernel) => void): () => void {
    this.emitter.on('kernel', listener);
    return () => {
      this.emitter.off('kernel', listener);
    };
  }
}
