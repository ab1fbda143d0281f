/** The in-process bus of cluster kernel changes, for the owners' SSE streams. */
import type { ClusterKernel } from '../contract';

type Listener = (kernel: ClusterKernel) => void;

export class KernelEvents {
  private readonly listeners = new Set<Listener>();

  emit(kernel: ClusterKernel): void {
    this.listeners.forEach(listener => listener(kernel));
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
