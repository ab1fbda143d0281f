/**
 * Streams a log file from the cluster (SFTP as the job's owner): the last `tail` bytes,
 * then, when following, what is appended, checked every second, until the element has
 * ended and the file stopped growing. Bounded in time and bytes per read.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IClusterAccess } from '../credentials/access';

const POLL_MS = 1_000;
const MAX_READ = 1024 * 1024;
const MAX_FOLLOW_MS = 6 * 3600 * 1000;

export interface IFollowOptions {
  request: FastifyRequest;
  reply: FastifyReply;
  access: IClusterAccess;
  cluster: string;
  owner: string;
  path: string;
  tail: number;
  follow: boolean;
  /** True when the element is in a terminal state (read from the store). */
  ended: () => boolean;
}

export async function followLog(o: IFollowOptions): Promise<void> {
  const session = o.access.session(o.cluster, o.owner);
  // The first read happens before the response starts, so auth failures are proper 412s.
  const size = await o.access.run(
    o.cluster,
    o.owner,
    s => s.files.size(o.path),
    session
  );
  let offset = size === null ? 0 : Math.max(0, size - o.tail);
  let closed = false;
  o.request.raw.on('close', () => {
    closed = true;
  });
  o.reply.hijack();
  const res = o.reply.raw;
  res.writeHead(200, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
    'x-content-type-options': 'nosniff'
  });
  const started = Date.now();
  try {
    for (;;) {
      const endedBefore = o.ended();
      let grew = false;
      for (;;) {
        const chunk = await session.files.readRange(o.path, offset, MAX_READ);
        if (chunk === null || chunk.length === 0) {
          break;
        }
        offset += chunk.length;
        grew = true;
        if (!res.write(chunk)) {
          await new Promise(r => res.once('drain', r));
        }
        if (chunk.length < MAX_READ || closed) {
          break;
        }
      }
      if (!o.follow || closed || (endedBefore && !grew)) {
        break;
      }
      if (Date.now() - started > MAX_FOLLOW_MS) {
        break;
      }
      await new Promise(r => setTimeout(r, POLL_MS));
    }
  } catch (e) {
    o.request.log.warn(
      { err: (e as Error).message },
      'log stream ended by an error'
    );
  } finally {
    res.end();
  }
}
