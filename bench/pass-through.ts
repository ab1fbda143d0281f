/**
 * The least a Node HTTP hop can cost: a pass-through with nothing but undici's kept-alive
 * connections between a client and one upstream (no auth, no accounting), the floor
 * the gateway bench compares the gateway's added latency with. Run as its own process
 * (as the bridge is): `tsx bench/pass-through.ts UPSTREAM_ORIGIN`; prints its port.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';

const upstream = process.argv[2];
const agent = new Agent({ keepAliveTimeout: 60_000 });

const server = createServer(async (req, res) => {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const answer = await agent.request({
      origin: upstream,
      path: req.url ?? '/',
      method: req.method === 'POST' ? 'POST' : 'GET',
      headers: {
        authorization: req.headers.authorization ?? '',
        'content-type': req.headers['content-type'] ?? 'application/json'
      },
      body: req.method === 'POST' ? Buffer.concat(chunks) : undefined
    });
    const body = Buffer.from(await answer.body.arrayBuffer());
    res.writeHead(answer.statusCode, {
      'content-type': String(answer.headers['content-type'] ?? ''),
      'content-length': body.length
    });
    res.end(body);
  } catch (err) {
    res.writeHead(502).end(String(err));
  }
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
