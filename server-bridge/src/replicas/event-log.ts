/**
 * Events shared by the replicas of one database. Publishing stores a row in `events`;
 * every replica tails the table and hands each row, in id order and once, to its own
 * subscribers. The publishing replica delivers its own rows through the tail too (it
 * reads the table right after the insert, so locally nothing waits for the next poll):
 * one path, one order, and the id a stream sends is the row's.
 */
import type { Store } from '../store';
import { EventTable, type IStoredEvent } from './repository/events';

export type { IStoredEvent };

type Listener = (event: IStoredEvent) => void;

/** Between two reads of the table for other replicas' events. */
const POLL_MS = 250;
/** Rows read at once; a longer backlog is read in several rounds of one drain. */
const BATCH = 500;
/** Events of one topic a reconnecting stream gets at most. */
export const REPLAY_LIMIT = 1000;

export interface IEventLogOptions {
  pollMs?: number;
  /** A listener threw or the table could not be read (the tail goes on). */
  onError?: (error: unknown) => void;
  now?: () => Date;
}

export class EventLog {
  private readonly table: EventTable;
  private readonly listeners = new Map<string, Set<Listener>>();
  /** The last row handed to subscribers. */
  private seen: number;
  private timer: NodeJS.Timeout | undefined;
  private draining = false;
  private again = false;

  constructor(
    store: Store,
    private readonly options: IEventLogOptions = {}
  ) {
    this.table = new EventTable(store);
    this.seen = this.table.lastId();
  }

  /** Stores the event and delivers it (and whatever came before it) here; returns its id. */
  publish(topic: string, subject: string, payload: unknown): number {
    const id = this.table.insert(topic, subject, payload, this.now());
    this.drain();
    return id;
  }

  /** Returns the unsubscribe function. */
  subscribe(topic: string, listener: Listener): () => void {
    let set = this.listeners.get(topic);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(topic, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Starts tailing the table for other replicas' events. */
  start(): void {
    if (this.timer !== undefined) {
      return;
    }
    this.timer = setInterval(
      () => this.drain(),
      this.options.pollMs ?? POLL_MS
    );
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Hands every row past the last one delivered to its topic's subscribers. */
  drain(): void {
    if (this.draining) {
      // A subscriber published: the loop below reads that row too.
      this.again = true;
      return;
    }
    this.draining = true;
    try {
      let rows: IStoredEvent[];
      do {
        this.again = false;
        rows = this.read();
        for (const row of rows) {
          this.seen = row.id;
          this.deliver(row);
        }
      } while (this.again || rows.length === BATCH);
    } finally {
      this.draining = false;
    }
  }

  /** A reconnecting stream's missed events of `topic` after `id` (only `subject`'s, when given). */
  replay(
    id: number,
    topic: string,
    subject: string | undefined,
    limit = REPLAY_LIMIT
  ): IStoredEvent[] {
    return this.table.afterOf(id, topic, subject, limit);
  }

  /**
   * Whether every event published after `id` is still in the table: none was pruned
   * since, and `id` is one of this database's (not ahead of its newest).
   */
  keepsAfter(id: number): boolean {
    const { oldest, newest } = this.table.bounds();
    return id <= newest && (newest === 0 || oldest <= id + 1);
  }

  /** The id of the newest event (0 without any). */
  lastId(): number {
    return this.table.lastId();
  }

  /** Deletes the events older than `ms`; returns how many. */
  prune(ms: number): number {
    return this.table.deleteBefore(new Date(this.now().getTime() - ms));
  }

  private read(): IStoredEvent[] {
    try {
      return this.table.after(this.seen, BATCH);
    } catch (e) {
      this.options.onError?.(e);
      return [];
    }
  }

  private deliver(row: IStoredEvent): void {
    for (const listener of this.listeners.get(row.topic) ?? []) {
      try {
        listener(row);
      } catch (e) {
        this.options.onError?.(e);
      }
    }
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }
}
