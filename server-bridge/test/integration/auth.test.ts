/**
 * Panels → bridge auth against the real hub: page tokens, script tokens,
 * missing, bad and insufficient tokens, and no acting as somebody else.
 */
import { ErrorBodySchema, WhoamiSchema } from '../../src/contract';
import { bridge, createUserToken, HubBrowser } from './stack';

describe('bridge auth through JupyterHub', () => {
  it('identifies alice by the token in her lab page config', async () => {
    const browser = new HubBrowser();
    await browser.login('alice');
    const token = await browser.pageToken('alice');

    const res = await bridge('/api/v1/whoami', token);

    expect(res.status).toBe(200);
    const me = WhoamiSchema.parse(res.body);
    expect(me.name).toBe('alice');
    expect(me.groups).toContain('ml101');
    expect(me.roles).toEqual(['researcher']);
  });

  it('identifies alice by a script token (a hub API token of hers)', async () => {
    const token = await createUserToken('alice');
    const res = await bridge('/api/v1/whoami', token);
    expect(res.status).toBe(200);
    expect(WhoamiSchema.parse(res.body).name).toBe('alice');
  });

  it('gives carol the instructor role and admin the admin role', async () => {
    const carol = await bridge(
      '/api/v1/whoami',
      await createUserToken('carol')
    );
    expect(WhoamiSchema.parse(carol.body).roles).toContain('instructor');
    const admin = await bridge(
      '/api/v1/whoami',
      await createUserToken('admin')
    );
    expect(WhoamiSchema.parse(admin.body).roles).toContain('admin');
  });

  it('answers 401 without a token, in the one error shape', async () => {
    const res = await bridge('/api/v1/whoami');
    expect(res.status).toBe(401);
    expect(ErrorBodySchema.parse(res.body).error.code).toBe('unauthenticated');
  });

  it('answers 403 for a token the hub does not know', async () => {
    const res = await bridge('/api/v1/whoami', 'not-a-real-token-0123456789');
    expect(res.status).toBe(403);
    expect(ErrorBodySchema.parse(res.body).error.code).toBe('forbidden');
  });

  it('answers 403 for a real token without the bridge scope', async () => {
    const token = await createUserToken('alice', [
      'read:users:name!user=alice'
    ]);
    const res = await bridge('/api/v1/whoami', token);
    expect(res.status).toBe(403);
  });

  it('refuses a token of alice that lacks access to her own server (as one harvested by another server)', async () => {
    const harvested = await createUserToken('alice', [
      'access:services!service=hpc-bridge'
    ]);
    const res = await bridge('/api/v1/whoami', harvested);
    expect(res.status).toBe(403);
  });

  it('ignores forwarded-identity headers: bob stays bob', async () => {
    const token = await createUserToken('bob');
    const res = await bridge('/api/v1/whoami', token, {
      headers: {
        'X-Forwarded-User': 'alice',
        'X-Remote-User': 'alice',
        'X-JupyterHub-User': 'alice'
      }
    });
    expect(res.status).toBe(200);
    expect(WhoamiSchema.parse(res.body).name).toBe('bob');
  });
});
