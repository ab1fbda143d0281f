/** Webhooks go only to public addresses unless the admin allows private networks. */
import { isPublicAddress, webhookRefusal } from '../../src/jobs/webhook-target';
import { postWebhook } from '../../src/jobs/webhook';
import type { Job } from '../../src/contract';

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
    'not-an-ip'
  ])('refuses %s', address => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '2606:4700::1111'])(
    'accepts %s',
    address => {
      expect(isPublicAddress(address)).toBe(true);
    }
  );
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
    const calls: string[] = [];
    const delivered = await postWebhook(
      'http://internal.example/',
      job,
      quiet,
      {
        allowPrivateNetworks: false,
        lookup: async () => ['10.0.0.5'],
        fetchImpl: (async (url: string) => {
          calls.push(url);
          return new Response('ok');
        }) as typeof fetch
      }
    );
    expect(delivered).toBe(false);
    expect(calls).toEqual([]);
  });

  it('calls private addresses when the admin allows them', async () => {
    const calls: string[] = [];
    const delivered = await postWebhook('http://10.0.0.5/hook', job, quiet, {
      allowPrivateNetworks: true,
      fetchImpl: (async (url: string) => {
        calls.push(url);
        return new Response('ok');
      }) as typeof fetch
    });
    expect(delivered).toBe(true);
    expect(calls).toEqual(['http://10.0.0.5/hook']);
  });
});
