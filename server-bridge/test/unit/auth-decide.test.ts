import {
  decide,
  hasOwnServerScope,
  rolesOf,
  type IAuthPolicy
} from '../../src/auth/decide';

const policy: IAuthPolicy = {
  serviceName: 'hpc-bridge',
  adminGroup: null,
  instructorGroupSuffix: '-instructors'
};
const BRIDGE = 'access:services!service=hpc-bridge';

function hubUser(
  overrides: Record<string, unknown> = {}
): Record<string, unknown> {
  return {
    kind: 'user',
    name: 'alice',
    admin: false,
    groups: ['ml101'],
    scopes: [
      BRIDGE,
      'access:servers!server=alice/',
      'read:users:name!user=alice'
    ],
    server: '/user/alice/',
    ...overrides
  };
}

describe('decide', () => {
  it('accepts a user token with the bridge scope and access to its own server', () => {
    expect(decide(hubUser(), policy)).toEqual({
      ok: true,
      user: {
        name: 'alice',
        groups: ['ml101'],
        roles: ['researcher'],
        instructorOf: [],
        admin: false
      }
    });
  });

  it('accepts the unfiltered service scope', () => {
    expect(
      decide(
        hubUser({ scopes: ['access:services', 'access:servers!user=alice'] }),
        policy
      ).ok
    ).toBe(true);
  });

  it.each([
    ['access:servers'],
    ['access:servers!user=alice'],
    ['access:servers!server=alice/'],
    ['access:servers!server=alice/gpu']
  ])('accepts own-server scope %s', scope => {
    expect(decide(hubUser({ scopes: [BRIDGE, scope] }), policy).ok).toBe(true);
  });

  it('rejects a token without the bridge scope', () => {
    expect(
      decide(hubUser({ scopes: ['access:servers!server=alice/'] }), policy)
    ).toEqual({
      ok: false,
      reason: 'token lacks the scope access:services!service=hpc-bridge'
    });
    expect(
      decide(
        hubUser({
          scopes: ['access:services!service=other', 'access:servers']
        }),
        policy
      ).ok
    ).toBe(false);
    expect(decide(hubUser({ scopes: undefined }), policy).ok).toBe(false);
  });

  it("rejects a token that only reaches another user's server (harvested token replay)", () => {
    for (const scope of [
      'access:servers!server=bob/',
      'access:servers!user=bob',
      'access:servers!server=alice2/',
      'access:servers!user=alic'
    ]) {
      expect(decide(hubUser({ scopes: [BRIDGE, scope] }), policy)).toEqual({
        ok: false,
        reason: "token lacks access to the user's own server"
      });
    }
  });

  it('rejects service tokens and malformed answers', () => {
    expect(
      decide(hubUser({ kind: 'service', name: 'hpc-bridge' }), policy)
    ).toEqual({
      ok: false,
      reason: 'token belongs to a service, not a user'
    });
    expect(decide({ name: 'alice' }, policy).ok).toBe(false);
    expect(decide(null, policy).ok).toBe(false);
    expect(decide('alice', policy).ok).toBe(false);
  });

  it('uses the hub admin flag and groups for roles', () => {
    expect(
      decide(
        hubUser({
          name: 'admin',
          admin: true,
          groups: [],
          scopes: [BRIDGE, 'access:servers']
        }),
        policy
      )
    ).toMatchObject({
      ok: true,
      user: { roles: ['researcher', 'admin'], admin: true }
    });
    expect(
      decide(
        hubUser({
          name: 'carol',
          groups: ['ml101-instructors'],
          scopes: [BRIDGE, 'access:servers!user=carol']
        }),
        policy
      )
    ).toMatchObject({
      ok: true,
      user: { roles: ['researcher', 'instructor'], instructorOf: ['ml101'] }
    });
  });
});

describe('rolesOf', () => {
  it('grants admin through the configured admin group', () => {
    const p = {
      adminGroup: 'hpc-admins',
      instructorGroupSuffix: '-instructors'
    };
    expect(rolesOf({ admin: false, groups: ['hpc-admins'] }, p).roles).toEqual([
      'researcher',
      'admin'
    ]);
    expect(rolesOf({ admin: false, groups: ['other'] }, p).roles).toEqual([
      'researcher'
    ]);
  });

  it('does not treat a group named exactly like the suffix as a course', () => {
    expect(rolesOf({ admin: false, groups: ['-instructors'] }, policy)).toEqual(
      { roles: ['researcher'], instructorOf: [] }
    );
  });
});

describe('hasOwnServerScope', () => {
  it('does not match on a name prefix', () => {
    expect(hasOwnServerScope(['access:servers!server=alice/'], 'ali')).toBe(
      false
    );
    expect(hasOwnServerScope(['access:servers!user=alice'], 'alice')).toBe(
      true
    );
  });
});
