import Fastify, { type FastifyInstance } from 'fastify';
import { connect, type Socket } from 'node:net';
import { drainBeforeReply, httpLimitOptions } from '../../src/http-limits';

/** A server whose only route refuses in its onRequest hook, before any body is read. */
async function refusingServer(maxBytes: number): Promise<FastifyInstance> {
  const app = Fastify();
  drainBeforeReply(app, maxBytes);
  app.addHook('onRequest', async (_request, reply) => {
    await reply
      .status(401)
      .send({ error: { code: 'unauthenticated', message: 'no' } });
  });
  app.post('/upload', async () => ({ ok: true }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  return app;
}

function portOf(app: FastifyInstance): number {
  const address = app.server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

/** Everything the socket receives, as text so far. */
function received(socket: Socket): {
  text: () => string;
  closed: Promise<void>;
} {
  let text = '';
  socket.on('data', chunk => (text += chunk.toString('latin1')));
  const closed = new Promise<void>(resolve =>
    socket.once('close', () => resolve())
  );
  return { text: () => text, closed };
}

const wait = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));
const head = (length: number): string =>
  `POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n\r\n`;

describe('an answer that comes before the request body', () => {
  let app: FastifyInstance;
  afterEach(async () => app.close());

  test('waits for a small body to arrive, then keeps the connection for the next request', async () => {
    app = await refusingServer(1024 * 1024);
    const socket = connect(portOf(app), '127.0.0.1');
    const answer = received(socket);
    socket.write(head(200_000));
    socket.write(Buffer.alloc(50_000, 1));
    await wait(300);
    // A proxy still writing the other 150 kB must not have its connection pulled away.
    expect(answer.text()).toBe('');
    socket.write(Buffer.alloc(150_000, 1));
    await wait(300);
    expect(answer.text()).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer.text()).not.toMatch(/connection: close/i);
    socket.write(head(3) + 'abc');
    await wait(300);
    expect(answer.text().match(/HTTP\/1\.1 401 /g)).toHaveLength(2);
    socket.destroy();
  });

  test('does not wait for a body over the limit', async () => {
    app = await refusingServer(10_000);
    const socket = connect(portOf(app), '127.0.0.1');
    const answer = received(socket);
    socket.write(head(200_000));
    socket.write(Buffer.alloc(1000, 1));
    await wait(300);
    expect(answer.text()).toMatch(/^HTTP\/1\.1 401 /);
    socket.destroy();
    await answer.closed;
  });
});

describe("the router's own answers (a URL part over maxParamLength)", () => {
  let app: FastifyInstance;
  afterEach(async () => app.close());

  test('come after the request body, in the error shape', async () => {
    app = Fastify({ ...httpLimitOptions, maxParamLength: 10 });
    app.post('/items/:id', async () => ({ ok: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const socket = connect(portOf(app), '127.0.0.1');
    const answer = received(socket);
    socket.write(
      `POST /items/${'a'.repeat(50)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n`
    );
    socket.write(Buffer.alloc(40_000, 1));
    await wait(300);
    expect(answer.text()).toBe('');
    socket.write(Buffer.alloc(60_000, 1));
    await wait(300);
    expect(answer.text()).toMatch(/^HTTP\/1\.1 414 /);
    expect(answer.text()).toContain('A part of the URL is too long');
    socket.destroy();
  });
});
