/**
 * A synchronous PostgreSQL connection: a worker thread holds a `pg` Client; the calling
 * thread posts a query and sleeps on a shared word (Atomics.wait) until the worker has
 * the rows, then takes them off the port with receiveMessageOnPort. The store's callers
 * are synchronous; this keeps them so, at the cost of one thread hop per query.
 */
import {
  MessageChannel,
  receiveMessageOnPort,
  Worker,
  type MessagePort
} from 'node:worker_threads';

export interface IPgResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

interface IReply extends Partial<IPgResult> {
  id: number;
  error?: { message: string; code?: string; detail?: string };
}

/** How long a query may take before the calling thread gives up waiting. */
const QUERY_TIMEOUT_MS = 60_000;

// Plain JavaScript: the worker runs it as it is (no TypeScript loader in a worker).
// int8 (COUNT, BIGINT columns) and numeric (SUM of BIGINT) come back as numbers.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const pg = require(workerData.pgPath);
const { port, flag, url } = workerData;
pg.types.setTypeParser(20, Number);
pg.types.setTypeParser(1700, Number);
const client = new pg.Client({ connectionString: url });
client.on('error', () => {});
const connected = client.connect();
// PostgreSQL's text cannot hold NUL, which storage keys use as a separator: NUL travels
// as U+FFFF "0" and U+FFFF itself as U+FFFF U+FFFF, a mapping of each character that
// keeps equality, prefixes and LIKE patterns as they were.
const MARK = '\uffff';
const escape = v =>
  typeof v === 'string' && (v.includes('\0') || v.includes(MARK))
    ? v.replace(/[\0\uffff]/g, c => (c === MARK ? MARK + MARK : MARK + '0'))
    : v;
const unescape = v =>
  typeof v === 'string' && v.includes(MARK)
    ? v.replace(/\uffff([\uffff0])/g, (_, c) => (c === '0' ? '\0' : MARK))
    : v;
const unescapeRow = row => {
  for (const k in row) row[k] = unescape(row[k]);
  return row;
};
const reply = message => {
  port.postMessage(message);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
};
port.on('message', async ({ id, text, values, end }) => {
  try {
    await connected;
    if (end) {
      await client.end();
      reply({ id, rows: [], rowCount: 0 });
      port.close();
      return;
    }
    const result = await client.query(
      values === undefined ? text : { text, values: values.map(escape) }
    );
    const last = Array.isArray(result) ? result[result.length - 1] : result;
    reply({ id, rows: (last.rows ?? []).map(unescapeRow), rowCount: last.rowCount ?? 0 });
  } catch (e) {
    reply({ id, error: { message: e.message, code: e.code, detail: e.detail } });
  }
});
`;

export class PgError extends Error {
  constructor(
    message: string,
    /** PostgreSQL's SQLSTATE, e.g. 23505 for a unique violation. */
    readonly code: string | undefined
  ) {
    super(message);
    this.name = 'PgError';
  }
}

export class SyncPgConnection {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private nextId = 0;
  private ended = false;

  constructor(url: string) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        url,
        pgPath: require.resolve('pg'),
        port: port2,
        flag: this.flag
      },
      transferList: [port2]
    });
    this.worker.unref();
  }

  get open(): boolean {
    return !this.ended;
  }

  /** Runs `text` with `values` ($1, $2, …), or several statements when `values` is undefined. */
  query(text: string, values?: readonly unknown[]): IPgResult {
    if (this.ended) {
      throw new Error('the PostgreSQL connection is closed');
    }
    const reply = this.request({ text, values });
    if (reply.error !== undefined) {
      const { message, code, detail } = reply.error;
      throw new PgError(
        detail === undefined ? message : `${message}: ${detail}`,
        code
      );
    }
    return { rows: reply.rows ?? [], rowCount: reply.rowCount ?? 0 };
  }

  close(): void {
    if (this.ended) {
      return;
    }
    try {
      this.request({ end: true });
    } finally {
      this.ended = true;
      void this.worker.terminate();
    }
  }

  private request(message: object): IReply {
    const id = ++this.nextId;
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage({ ...message, id });
    const deadline = Date.now() + QUERY_TIMEOUT_MS;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no answer from PostgreSQL in ${QUERY_TIMEOUT_MS} ms`);
      }
      Atomics.wait(this.flag, 0, 0, left);
      // Replies to requests that timed out earlier are dropped here.
      for (
        let got = receiveMessageOnPort(this.port);
        got !== undefined;
        got = receiveMessageOnPort(this.port)
      ) {
        const reply = got.message as IReply;
        if (reply.id === id) {
          return reply;
        }
      }
      Atomics.store(this.flag, 0, 0);
    }
  }
}
