/** What a student's course keys used on the course endpoint, and which one is active. */
import type { Course } from '../contract';
import type { EndpointKeys } from '../endpoints/keys';
import type { IKeyRecord } from '../endpoints/repository/keys';
import type { EndpointUsage } from '../endpoints/usage';
import type { CourseTable } from './repository/courses';

export interface IStudentKeys {
  active: IKeyRecord | null;
  /**
   * Tokens used by the student's course keys on the endpoint, all of them, with what
   * their requests in flight hold: a key made now must not get those tokens again.
   */
  tokensUsed: number;
  requests: number;
  /** Tokens used (or held) by every key except the active one. */
  usedBefore: number;
}

export function keyStatus(key: IKeyRecord | null): Course['myKey'] {
  return key === null
    ? null
    : {
        prefix: key.prefix,
        createdAt: key.createdAt,
        revokedAt: key.revokedAt
      };
}

/** Per student: their active key and what all their course keys used. */
export function studentKeys(
  table: CourseTable,
  endpointKeys: { keys: EndpointKeys; usage: EndpointUsage } | undefined,
  course: string,
  endpointId: string
): Map<string, IStudentKeys> {
  const rows = table.keys(course, endpointId);
  const out = new Map<string, IStudentKeys>();
  if (rows.length === 0 || endpointKeys === undefined) {
    return out;
  }
  const { keys, usage } = endpointKeys;
  const used = usage.keyUsage(endpointId);
  for (const row of rows) {
    const s = out.get(row.student) ?? {
      active: null,
      tokensUsed: 0,
      requests: 0,
      usedBefore: 0
    };
    const u = used.get(row.keyId);
    const tokens = (u?.tokensUsed ?? 0) + (u?.tokensReserved ?? 0);
    s.tokensUsed += tokens;
    s.requests += u?.requests ?? 0;
    const record = keys.get(row.keyId);
    if (record !== undefined && record.revokedAt === null) {
      if (s.active !== null) {
        const previous = used.get(s.active.id);
        s.usedBefore +=
          (previous?.tokensUsed ?? 0) + (previous?.tokensReserved ?? 0);
      }
      s.active = record;
    } else {
      s.usedBefore += tokens;
    }
    out.set(row.student, s);
  }
  return out;
}
