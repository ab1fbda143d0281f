import { mkdtempSync } from 'node:fs';
import { testStore } from './test-store';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../src/store';
import { migrations } from '../../src/store/migrations';

describe('Store', () => {
  it('applies migrations once, in order, and keeps data across reopen', () => {
    const path = join(
      mkdtempSync(join(tmpdir(), 'hpc-bridge-store-')),
      'sub',
      'bridge.db'
    );
    const a = new Store(path);
    expect(a.schemaVersion()).toBe(migrations.at(-1)?.version);
    a.setMeta('k', 'v1');
    a.setMeta('k', 'v2');
    a.audit({
      user: 'alice',
      action: 'job.submit',
      target: 'demo/1',
      details: { partition: 'cpu' }
    });
    a.close();

    const b = new Store(path, [
      ...migrations,
      { version: 99, name: 'extra', sql: 'CREATE TABLE extra (x INTEGER)' }
    ]);
    expect(b.schemaVersion()).toBe(99);
    expect(b.getMeta('k')).toBe('v2');
    expect(b.auditLog({ user: 'alice' })).toEqual([
      expect.objectContaining({
        user: 'alice',
        action: 'job.submit',
        target: 'demo/1',
        details: { partition: 'cpu' }
      })
    ]);
    b.close();

    expect(() => new Store(path)).toThrow(/newer than this bridge knows/);
  });

  it('rolls back a failing migration', () => {
    const path = join(
      mkdtempSync(join(tmpdir(), 'hpc-bridge-store-')),
      'bridge.db'
    );
    expect(
      () =>
        new Store(path, [
          ...migrations,
          {
            version: (migrations.at(-1)?.version ?? 0) + 1,
            name: 'broken',
            sql: 'CREATE TABLE t (x); SELECT nope FROM nowhere'
          }
        ])
    ).toThrow();
    const s = new Store(path);
    expect(s.schemaVersion()).toBe(migrations.at(-1)?.version);
    s.close();
  });

  it('lists audit records newest first', () => {
    const s = testStore();
    s.audit({ user: 'bob', action: 'a' });
    s.audit({ user: 'bob', action: 'b' });
    expect(s.auditLog().map(r => r.action)).toEqual(['b', 'a']);
    s.close();
  });

  it('prepares a kept statement once and runs it again', () => {
    const s = testStore();
    const sql = 'SELECT value FROM meta WHERE key = ?';
    expect(s.statement(sql)).toBe(s.statement(sql));
    s.setMeta('k', 'one');
    expect(s.statement(sql).get('k')).toEqual({ value: 'one' });
    s.setMeta('k', 'two');
    expect(s.statement(sql).get('k')).toEqual({ value: 'two' });
    s.close();
  });
});
