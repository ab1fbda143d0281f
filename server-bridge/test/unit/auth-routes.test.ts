import { ErrorBodySchema, Routes, WhoamiSchema } from '../../src/contract';
import { BASE, testApp } from './app-fixture';

const WHOAMI = `${BASE}${Routes.whoami}`;

describe('auth on routes', () => {
  it('401 without a token, with the error shape and a challenge', async () => {
    const { app, hubCalls } = await testApp();
    const res = await app.inject({ url: WHOAMI });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('token');
    expect(ErrorBodySchema.parse(res.json()).error.code).toBe(
      'unauthenticated'
    );
    expect(hubCalls).toEqual([]);
    await app.close();
  });

  it('401 for a header that is not a token', async () => {
    const { app } = await testApp();
    for (const authorization of [
      'Basic YWxpY2U6eA==',
      'token',
      'alice-token'
    ]) {
      const res = await app.inject({ url: WHOAMI, headers: { authorization } });
      expect({ authorization, status: res.statusCode }).toEqual({
        authorization,
        status: 401
      });
    }
    await app.close();
  });

  it('resolves a good token to the user, groups and roles', async () => {
    const { app } = await testApp();
    const res = await app.inject({
      url: WHOAMI,
      headers: { authorization: 'token alice-token' }
    });
    expect(res.statusCode).toBe(200);
    expect(WhoamiSchema.parse(res.json())).toEqual({
      name: 'alice',
      groups: ['ml101'],
      roles: ['researcher']
    });
    const carol = await app.inject({
      url: WHOAMI,
      headers: { authorization: 'Bearer carol-token' }
    });
    expect(carol.json()).toEqual({
      name: 'carol',
      groups: ['ml101-instructors'],
      roles: ['researcher', 'instructor']
    });
    await app.close();
  });

  it.each([
    ['unknown-token', /does not know this token/],
    ['no-bridge-scope', /access:services!service=hpc-bridge/],
    ['harvested-by-bob', /own server/],
    ['service-token', /service, not a user/]
  ])('403 for %s', async (token, reason) => {
    const { app } = await testApp();
    const res = await app.inject({
      url: WHOAMI,
      headers: { authorization: `token ${token}` }
    });
    expect(res.statusCode).toBe(403);
    const body = ErrorBodySchema.parse(res.json());
    expect(body.error.code).toBe('forbidden');
    expect(body.error.message).toMatch(reason);
    await app.close();
  });

  it('ignores forwarded-identity headers', async () => {
    const { app } = await testApp();
    const spoof = {
      'x-forwarded-user': 'admin',
      'x-remote-user': 'admin',
      'x-forwarded-preferred-username': 'admin'
    };
    expect((await app.inject({ url: WHOAMI, headers: spoof })).statusCode).toBe(
      401
    );
    const res = await app.inject({
      url: WHOAMI,
      headers: { ...spoof, authorization: 'token alice-token' }
    });
    expect(res.json()).toMatchObject({ name: 'alice' });
    await app.close();
  });

  it('503 upstream_unavailable (not 403) when the hub cannot be asked, and does not cache that', async () => {
    const { app, hubCalls } = await testApp({}, true);
    for (let i = 0; i < 2; i++) {
      const res = await app.inject({
        url: WHOAMI,
        headers: { authorization: 'token alice-token' }
      });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({
        error: { code: 'upstream_unavailable' }
      });
    }
    expect(hubCalls).toHaveLength(2);
    await app.close();
  });

  it('asks the hub once per token within the cache lifetime', async () => {
    const { app, hubCalls } = await testApp();
    await Promise.all(
      [1, 2, 3].map(() =>
        app.inject({
          url: WHOAMI,
          headers: { authorization: 'token alice-token' }
        })
      )
    );
    await app.inject({
      url: WHOAMI,
      headers: { authorization: 'token alice-token' }
    });
    await app.inject({
      url: WHOAMI,
      headers: { authorization: 'token unknown-token' }
    });
    await app.inject({
      url: WHOAMI,
      headers: { authorization: 'token unknown-token' }
    });
    expect(hubCalls).toEqual(['alice-token', 'unknown-token']);
    await app.close();
  });

  it('never logs tokens or query strings', async () => {
    const { app, logs } = await testApp();
    await app.inject({
      url: `${WHOAMI}?token=query-secret`,
      headers: { authorization: 'token alice-token' }
    });
    await app.inject({
      url: `${BASE}/nope?token=query-secret`,
      headers: { authorization: 'token alice-token' }
    });
    const text = logs();
    expect(text).toContain('/api/v1/whoami');
    expect(text).not.toContain('query-secret');
    expect(text).not.toContain('alice-token');
    await app.close();
  });

  it('keeps the public routes public', async () => {
    const { app } = await testApp();
    expect(
      (await app.inject({ url: `${BASE}${Routes.version}` })).statusCode
    ).toBe(200);
    expect(
      (await app.inject({ url: `${BASE}${Routes.openapi}` })).statusCode
    ).toBe(200);
    for (const path of [Routes.whoami, Routes.health, Routes.clusters]) {
      expect({
        path,
        status: (await app.inject({ url: `${BASE}${path}` })).statusCode
      }).toEqual({ path, status: 401 });
    }
    await app.close();
  });
});
