/** Webhooks go only to public addresses unless the admin allows private networks. */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  isPublicAddress,
  webhookRefusal,
  type IWebhookTarget
} from '../../src/jobs/webhook-target';
import {
  postWebhook,
  sendPinned,
  type WebhookSend
} from '../../src/jobs/webhook';
import type { Job } from '../../src/contract';

/** Records where each POST went instead of sending it. */
function recorder(status = 200): {
  send: WebhookSend;
  sent: IWebhookTarget[];
} {
  const sent: IWebhookTarget[] = [];
  return {
    send: async target => {
      sent.push(target);
      return status;
    },
    sent
  };
}

const quiet = { info: () => undefined, warn: () => undefined };

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    // IPv4-mapped and -compatible, also of public IPv4 addresses, in every spelling
    '::ffff:7f00:1',
    '::ffff:8.8.8.8',
    '::127.0.0.1',
    '::7f00:1',
    '::8.8.8.8',
    '0:0:0:0:0:ffff:7f00:1',
    '::ffff:0:7f00:1', // IPv4-translated
    // NAT64, 6to4, Teredo
    '64:ff9b::7f00:1',
    '64:ff9b::8.8.8.8',
    '64:ff9b:1::1',
    '2002:7f00:1::1',
    '2002:808:808::1',
    '2001::1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    // documentation
    '192.0.2.1',
    '198.51.100.7',
    '203.0.113.200',
    '2001:db8::1',
    '2001:db8:ffff::1',
    '3fff::1',
    // other reserved and special ranges
    '192.0.0.8',
    '192.88.99.1',
    '198.18.0.1',
    '198.19.255.255',
    '240.0.0.1',
    '255.255.255.255',
    '100::1', // discard-only
    'fec0::1', // site-local
    'fe80::1%eth0',
    'ff02::1',
    'ff0e::1',
    '4000::1', // outside global unicast
    'not-an-ip'
  ])('refuses %s', address => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    '93.184.215.14',
    '8.8.8.8',
    '172.32.0.1',
    '192.0.3.1',
    '198.51.101.1',
    '203.0.114.1',
    '2606:4700::1111',
    '2a00:1450:4001:80b::200e',
    '2001:4860:4860::8888',
    '2003::1'
  ])('accepts %s', address => {
    expect(isPublicAddress(address)).toBe(true);
  });
});

describe('webhookRefusal', () => {
  it('checks every address a name resolves to', async () => {
    const rebinding = async () => ['93.184.215.14', '127.0.0.1'];
    expect(
      await webhookRefusal('https://hooks.example.org/x', rebinding)
    ).toMatch(/non-public address \(127\.0\.0\.1\)/);
    expect(
      await webhookRefusal('https://hooks.example.org/x', async () => [
        '93.184.215.14'
      ])
    ).toBeNull();
  });

  it.each([
    'http://[::ffff:127.0.0.1]/',
    'http://[::127.0.0.1]/',
    'http://[64:ff9b::127.0.0.1]/',
    'http://[2002:7f00:1::]/',
    'http://[2001::1]/',
    'http://[2001:db8::1]/',
    'http://192.0.2.1/',
    'http://2130706433/', // 127.0.0.1 as one number
    'http://0x7f.1/'
  ])('refuses the literal in %s', async url => {
    expect(await webhookRefusal(url, async () => [])).toMatch(/non-public/);
  });

  it('refuses address literals without asking DNS', async () => {
    const never = async (): Promise<string[]> => {
      throw new Error('no lookup for literals');
    };
    expect(await webhookRefusal('http://[::1]:8080/', never)).toMatch(
      /non-public/
    );
    expect(
      await webhookRefusal('http://169.254.169.254/latest', never)
    ).toMatch(/non-public/);
  });
});

describe('postWebhook', () => {
  const job = { id: 'abc' } as Job;

  it('does not call a name that resolves to a private address', async () => {
    const rec = recorder();
    const delivered = await postWebhook(
      'http://internal.example/',
      job,
      quiet,
      {
        allowPrivateNetworks: false,
        lookup: async () => ['10.0.0.5'],
        send: rec.send
      }
    );
    expect(delivered).toBe(false);
    expect(rec.sent).toEqual([]);
  });

  it('calls private addresses when the admin allows them', async () => {
    const rec = recorder();
    const delivered = await postWebhook('http://10.0.0.5/hook', job, quiet, {
      allowPrivateNetworks: true,
      send: rec.send
    });
    expect(delivered).toBe(true);
    expect(rec.sent.map(t => [t.url.href, t.address])).toEqual([
      ['http://10.0.0.5/hook', '10.0.0.5']
    ]);
  });

  it('resolves once and connects to the address it checked (no DNS rebinding)', async () => {
    const answers = [['93.184.215.14'], ['127.0.0.1']];
    let lookups = 0;
    const rec = recorder();
    const delivered = await postWebhook(
      'https://hooks.example.org/x',
      job,
      quiet,
      {
        allowPrivateNetworks: false,
        lookup: async () => answers[Math.min(lookups++, 1)],
        send: rec.send
      }
    );
    expect(delivered).toBe(true);
    expect(lookups).toBe(1);
    expect(rec.sent).toEqual([
      expect.objectContaining({ address: '93.184.215.14', family: 4 })
    ]);
    expect(rec.sent[0].url.hostname).toBe('hooks.example.org');
  });

  it('keeps the checked address on the retry', async () => {
    let lookups = 0;
    const rec = recorder(502);
    const delivered = await postWebhook(
      'http://hooks.example.org/',
      job,
      quiet,
      {
        allowPrivateNetworks: false,
        lookup: async () => (lookups++ === 0 ? ['2606:4700::1111'] : ['::1']),
        send: rec.send
      }
    );
    expect(delivered).toBe(false);
    expect(lookups).toBe(1);
    expect(rec.sent.map(t => t.address)).toEqual([
      '2606:4700::1111',
      '2606:4700::1111'
    ]);
  });

  it('refuses a name with any non-public address before sending', async () => {
    const rec = recorder();
    const delivered = await postWebhook(
      'http://hooks.example.org/',
      job,
      quiet,
      {
        allowPrivateNetworks: false,
        lookup: async () => ['93.184.215.14', '64:ff9b::7f00:1'],
        send: rec.send
      }
    );
    expect(delivered).toBe(false);
    expect(rec.sent).toEqual([]);
  });
});

describe('sendPinned', () => {
  it('connects to the given address with the URL host in Host and the path kept', async () => {
    const seen: { headers: IncomingHttpHeaders; url?: string; body: string }[] =
      [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ headers: req.headers, url: req.url, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      // The name does not exist: the request only arrives because the address is pinned.
      const url = new URL(`http://hooks.invalid:${port}/in/hook?x=1`);
      const status = await sendPinned(
        { url, address: '127.0.0.1', family: 4 },
        '{"id":"abc"}',
        5_000
      );
      expect(status).toBe(204);
      expect(seen).toEqual([
        {
          headers: expect.objectContaining({
            host: `hooks.invalid:${port}`,
            'content-type': 'application/json'
          }),
          url: '/in/hook?x=1',
          body: '{"id":"abc"}'
        }
      ]);
    } finally {
      await new Promise(r => server.close(r));
    }
  });
});
