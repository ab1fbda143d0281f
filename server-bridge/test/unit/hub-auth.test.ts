import {
  HubAuth,
  tokenFromHeader,
  type FetchUser
} from '../../src/auth/hub-auth';
import { HttpError } from '../../src/errors';
import { BRIDGE_SCOPE } from './app-fixture';

const policy = {
  serviceName: 'hpc-bridge',
  adminGroup: null,
  instructorGroupSuffix: '-instructors'
};
const alice = {
  kind: 'user',
  name: 'alice',
  groups: [],
  scopes: [BRIDGE_SCOPE, 'access:servers!user=alice']
};

function counting(answer: Awaited<ReturnType<FetchUser>>): {
  fetchUser: FetchUser;
  calls: () => number;
} {
  let n = 0;
  return {
    fetchUser: async () => {
      n += 1;
      return answer;
    },
    calls: () => n
  };
}

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    if (e instanceof HttpError) {
      return e.statusCode;
    }
    throw e;
  }
}

describe('HubAuth', () => {
  it('extracts tokens from "token" and "Bearer" headers only', () => {
    expect(tokenFromHeader('token abc')).toBe('abc');
    expect(tokenFromHeader('Token abc ')).toBe('abc');
    expect(tokenFromHeader('bearer abc')).toBe('abc');
    expect(tokenFromHeader('Basic abc')).toBeUndefined();
    expect(tokenFromHeader('token a b')).toBeUndefined();
    expect(tokenFromHeader(undefined)).toBeUndefined();
  });

  it('caches an accepted token for at most 30 s', async () => {
    let now = 0;
    const hub = counting({ status: 'ok', body: alice });
    const auth = new HubAuth({
      policy,
      fetchUser: hub.fetchUser,
      positiveTtlMs: 60_000,
      now: () => now
    });
    await auth.authenticate('token t');
    now = 29_999;
    await auth.authenticate('token t');
    expect(hub.calls()).toBe(1);
    now = 30_000;
    await auth.authenticate('token t');
    expect(hub.calls()).toBe(2);
  });

  it('remembers a rejected token briefly', async () => {
    let now = 0;
    const hub = counting({ status: 'rejected', httpStatus: 403 });
    const auth = new HubAuth({
      policy,
      fetchUser: hub.fetchUser,
      negativeTtlMs: 5_000,
      now: () => now
    });
    expect(await statusOf(auth.authenticate('token bad'))).toBe(403);
    now = 4_000;
    expect(await statusOf(auth.authenticate('token bad'))).toBe(403);
    expect(hub.calls()).toBe(1);
    now = 5_000;
    expect(await statusOf(auth.authenticate('token bad'))).toBe(403);
    expect(hub.calls()).toBe(2);
  });

  it('keeps tokens apart', async () => {
    const auth = new HubAuth({
      policy,
      fetchUser: async token =>
        token === 'good'
          ? { status: 'ok', body: alice }
          : { status: 'rejected', httpStatus: 403 }
    });
    expect(await statusOf(auth.authenticate('token good'))).toBe(200);
    expect(await statusOf(auth.authenticate('token goodX'))).toBe(403);
    expect(await statusOf(auth.authenticate(undefined))).toBe(401);
  });
});
