/**
 * Many subscribers of the bridge's `GET /api/v1/events` in one process (node:http, no
 * EventSource), and a tally of what each received: per job, the states every subscriber
 * saw (a bit mask per subscriber), the delivery lag of each event (arrival − the job's
 * `updatedAt`, same clock), and events of jobs the subscriber must not see.
 */
import { request, type Agent, type ClientRequest } from 'node:http';
import { SseFrames } from '../server-bridge/test/integration/sse-frames';

const STATE_BITS = new Map<string, number>();

function stateBit(state: string): number {
  let bit = STATE_BITS.get(state);
  if (bit === undefined) {
    bit = 1 << STATE_BITS.size;
    STATE_BITS.set(state, bit);
  }
  return bit;
}

interface IJobEvent {
  type: string;
  job?: { id: string; owner: string; state: string; updatedAt: string };
}

export class EventTally {
  /** job id → states seen, one mask per subscriber (index = subscriber number). */
  readonly seen = new Map<string, Uint16Array>();
  /** Delivery lag of every `job` event, ms. */
  readonly lags: number[] = [];
  jobEvents = 0;
  /** `job` events of another user's job (must stay 0: no cross-user leaks). */
  foreign = 0;
  /** Streams that ended or failed before the bench closed them. */
  droppedEarly = 0;

  constructor(readonly subscribers: number) {}

  receive(subscriber: number, user: string, event: IJobEvent): void {
    const job = event.job;
    if (event.type !== 'job' || job === undefined) {
      return;
    }
    this.jobEvents += 1;
    this.lags.push(Date.now() - Date.parse(job.updatedAt));
    if (job.owner !== user) {
      this.foreign += 1;
    }
    let masks = this.seen.get(job.id);
    if (masks === undefined) {
      masks = new Uint16Array(this.subscribers);
      this.seen.set(job.id, masks);
    }
    masks[subscriber] |= stateBit(job.state);
  }

  /** Whether subscriber `subscriber` got `state` of job `jobId`. */
  saw(jobId: string, subscriber: number, state: string): boolean {
    const masks = this.seen.get(jobId);
    return masks !== undefined && (masks[subscriber] & stateBit(state)) !== 0;
  }

  /**
   * For jobs of `owner`: (job, subscriber, state) deliveries missing, counting as expected
   * every state that any subscriber of the owner saw, SUBMITTED always included.
   */
  missing(
    jobIds: readonly string[],
    subscribersOf: readonly number[]
  ): { missing: number; expected: number; neverSeen: number } {
    const submitted = stateBit('SUBMITTED');
    let missing = 0;
    let expected = 0;
    let neverSeen = 0;
    for (const id of jobIds) {
      const masks = this.seen.get(id) ?? new Uint16Array(this.subscribers);
      let union = submitted;
      for (const s of subscribersOf) {
        union |= masks[s];
      }
      const states = popcount(union);
      for (const s of subscribersOf) {
        expected += states;
        missing += popcount(union & ~masks[s]);
        if (masks[s] === 0) {
          neverSeen += 1;
        }
      }
    }
    return { missing, expected, neverSeen };
  }
}

function popcount(v: number): number {
  let n = 0;
  for (let x = v; x !== 0; x &= x - 1) {
    n += 1;
  }
  return n;
}

export interface ISubscription {
  close(): void;
}

/**
 * Opens one stream; resolves once the bridge answered 200 (rejects with the status and
 * body otherwise). Frames are parsed as they arrive.
 */
export function subscribe(options: {
  url: string;
  token: string;
  user: string;
  index: number;
  tally: EventTally;
  agent: Agent;
}): Promise<ISubscription> {
  const { tally, index, user } = options;
  return new Promise((resolve, reject) => {
    let closing = false;
    let open = false;
    const req: ClientRequest = request(
      options.url,
      {
        agent: options.agent,
        headers: {
          Authorization: `token ${options.token}`,
          Accept: 'text/event-stream'
        }
      },
      res => {
        if (res.statusCode !== 200) {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () =>
            reject(new Error(`events: ${res.statusCode} ${body.slice(0, 200)}`))
          );
          return;
        }
        open = true;
        resolve({
          close: () => {
            closing = true;
            req.destroy();
          }
        });
        res.setEncoding('utf8');
        const frames = new SseFrames();
        res.on('data', (chunk: string) => {
          for (const frame of frames.feed(chunk)) {
            if (frame.event === 'job') {
              tally.receive(index, user, JSON.parse(frame.data) as IJobEvent);
            }
          }
        });
        const ended = (): void => {
          if (!closing) {
            closing = true;
            tally.droppedEarly += 1;
          }
        };
        res.on('end', ended);
        res.on('error', ended);
      }
    );
    req.on('error', err => {
      if (closing) {
        return;
      }
      if (open) {
        closing = true;
        tally.droppedEarly += 1;
      } else {
        reject(err);
      }
    });
    req.end();
  });
}
