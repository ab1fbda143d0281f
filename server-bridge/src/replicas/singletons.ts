/**
 * What only the leading replica runs (pollers, controllers, sweepers…): started when it
 * is elected, stopped when it is demoted or closes. Transitions run one after another,
 * so a quick demotion waits for the start before it and every stop sees what started.
 */
export interface ISingleton {
  name: string;
  /** Starts the task; what it does in the background is not awaited. */
  start: () => void;
  stop: () => void | Promise<void>;
}

export class Singletons {
  private started = false;
  private transition: Promise<void> = Promise.resolve();

  constructor(
    private readonly list: readonly ISingleton[],
    private readonly onError: (name: string, error: unknown) => void
  ) {}

  get running(): boolean {
    return this.started;
  }

  /** Resolves once the starts and stops asked for so far are done. */
  settled(): Promise<void> {
    return this.transition;
  }

  start(): Promise<void> {
    return this.then(() => {
      if (this.started) {
        return;
      }
      this.started = true;
      for (const s of this.list) {
        try {
          s.start();
        } catch (e) {
          this.onError(s.name, e);
        }
      }
    });
  }

  /** Stops them in the reverse order of their start. */
  stop(): Promise<void> {
    return this.then(async () => {
      if (!this.started) {
        return;
      }
      this.started = false;
      for (const s of [...this.list].reverse()) {
        try {
          await s.stop();
        } catch (e) {
          this.onError(s.name, e);
        }
      }
    });
  }

  private then(step: () => void | Promise<void>): Promise<void> {
    this.transition = this.transition.then(step);
    return this.transition;
  }
}
