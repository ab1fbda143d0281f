/** Listing cursors: sealed with a key every replica of one bridge derives alike. */
import {
  keyCursorsWith,
  openCursor,
  sealCursor
} from '../../src/storage/cursor';

describe('listing cursors', () => {
  it("opens a cursor sealed by another replica with the same secret key, and refuses another bridge's", () => {
    keyCursorsWith('a'.repeat(64));
    const cursor = sealCursor('project/alice/', 'token-1');
    // A second process starting with the same secret key derives the same key.
    keyCursorsWith('a'.repeat(64));
    expect(openCursor('project/alice/', cursor)).toBe('token-1');
    expect(() => openCursor('project/bob/', cursor)).toThrow(/cursor/i);
    keyCursorsWith('b'.repeat(64));
    expect(() => openCursor('project/alice/', cursor)).toThrow(/cursor/i);
  });
});
