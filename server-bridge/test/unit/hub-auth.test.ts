import {
  expiryOf,
  HubAuth,
  tokenFromHeader,
  type FetchUser,
  type HubAnswer
} from '../../src/auth/hub-auth';
import { DomainError } from '../../src/domain-error';
import { statusOfError } from '../../src/errors';
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
    if (e instanceof DomainError) {
      return statusOfError(e);
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

  describe('revocation and expiry', () => {
    /** A hub whose answer can change between calls, as when a token is revoked. */
    function switchable(initial: HubAnswer): {
      fetchUser: FetchUser;
      set: (a: HubAnswer) => void;
      calls: () => number;
    } {
      let answer = initial;
      let n = 0;
      return {
        fetchUser: async () => {
          n += 1;
          return answer;
        },
        set: a => {
          answer = a;
        },
        calls: () => n
      };
    }

    it('stops accepting a revoked token 5 s after the hub accepted it (default)', async () => {
      let now = 1_000_000;
      const hub = switchable({ status: 'ok', body: alice });
      const auth = new HubAuth({
        policy,
        fetchUser: hub.fetchUser,
        now: () => now
      });
      expect(await statusOf(auth.authenticate('token t'))).toBe(200);
      hub.set({ status: 'rejected', httpStatus: 403 });
      now += 4_999;
      expect(await statusOf(auth.authenticate('token t'))).toBe(200);
      now += 1;
      expect(await statusOf(auth.authenticate('token t'))).toBe(403);
      expect(hub.calls()).toBe(2);
    });

    it('uses the configured window', async () => {
      let now = 1_000_000;
      const hub = switchable({ status: 'ok', body: alice });
      const auth = new HubAuth({
        policy,
        fetchUser: hub.fetchUser,
        positiveTtlMs: 1_000,
        now: () => now
      });
      await auth.authenticate('token t');
      hub.set({ status: 'rejected', httpStatus: 403 });
      now += 1_000;
      expect(await statusOf(auth.authenticate('token t'))).toBe(403);
    });

    it('asks the hub every time with a window of 0', async () => {
      const hub = switchable({ status: 'ok', body: alice });
      const auth = new HubAuth({
        policy,
        fetchUser: hub.fetchUser,
        positiveTtlMs: 0
      });
      await auth.authenticate('token t');
      await auth.authenticate('token t');
      expect(hub.calls()).toBe(2);
    });

    it("never trusts a cached token past the hub's expires_at", async () => {
      let now = Date.parse('2030-01-01T00:00:00Z');
      const hub = switchable({
        status: 'ok',
        body: { ...alice, expires_at: '2030-01-01T00:00:02.000000Z' }
      });
      const auth = new HubAuth({
        policy,
        fetchUser: hub.fetchUser,
        positiveTtlMs: 30_000,
        now: () => now
      });
      expect(await statusOf(auth.authenticate('token t'))).toBe(200);
      now += 1_999;
      expect(await statusOf(auth.authenticate('token t'))).toBe(200);
      expect(hub.calls()).toBe(1);
      hub.set({ status: 'rejected', httpStatus: 403 });
      now += 1;
      expect(await statusOf(auth.authenticate('token t'))).toBe(403);
      expect(hub.calls()).toBe(2);
    });

    it('does not cache a token whose expires_at has passed', async () => {
      const now = Date.parse('2030-01-01T00:00:00Z');
      const hub = switchable({
        status: 'ok',
        body: { ...alice, expires_at: '2029-12-31T23:59:59' }
      });
      const auth = new HubAuth({
        policy,
        fetchUser: hub.fetchUser,
        now: () => now
      });
      await auth.authenticate('token t');
      hub.set({ status: 'rejected', httpStatus: 403 });
      expect(await statusOf(auth.authenticate('token t'))).toBe(403);
    });

    it('keeps the window for a token that never expires (expires_at null)', async () => {
      let now = 1_000_000;
      const hub = switchable({
        status: 'ok',
        body: { ...alice, expires_at: null }
      });
      const auth = new HubAuth({
        policy,
        fetchUser: hub.fetchUser,
        now: () => now
      });
      await auth.authenticate('token t');
      now += 4_000;
      await auth.authenticate('token t');
      expect(hub.calls()).toBe(1);
    });

    it('reads expires_at as UTC, with or without a zone', () => {
      expect(expiryOf({ expires_at: '2030-01-01T00:00:00' })).toBe(
        Date.parse('2030-01-01T00:00:00Z')
      );
      expect(expiryOf({ expires_at: '2030-01-01T01:00:00+01:00' })).toBe(
        Date.parse('2030-01-01T00:00:00Z')
      );
      expect(expiryOf({ expires_at: null })).toBeNull();
      expect(expiryOf({ name: 'alice' })).toBeNull();
      expect(expiryOf({ expires_at: 'soon' })).toBe(0);
      expect(expiryOf({ expires_at: 5 })).toBe(0);
    });
  });
});
