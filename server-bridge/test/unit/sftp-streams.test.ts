import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';
import { SftpWriteStream } from '../../src/adapters/ssh/sftp-streams';

/** An SFTP session that keeps what is written and answers each write on the next turn. */
function fakeSftp(): {
  sftp: SFTPWrapper;
  file: Buffer[];
  writes: { position: number; length: number }[];
  maxInFlight: () => number;
} {
  const file: Buffer[] = [];
  const writes: { position: number; length: number }[] = [];
  let inFlight = 0;
  let most = 0;
  const sftp = {
    write(
      _handle: Buffer,
      data: Buffer,
      offset: number,
      length: number,
      position: number,
      cb: (err?: Error) => void
    ) {
      writes.push({ position, length });
      file.push(Buffer.from(data.subarray(offset, offset + length)));
      inFlight += 1;
      most = Math.max(most, inFlight);
      setImmediate(() => {
        inFlight -= 1;
        cb();
      });
    }
  } as unknown as SFTPWrapper;
  return { sftp, file, writes, maxInFlight: () => most };
}

describe('SftpWriteStream', () => {
  it('gathers an HTTP body of small pieces into whole requests, in order, the last one shorter', async () => {
    const { sftp, file, writes, maxInFlight } = fakeSftp();
    const pieces = Array.from({ length: 300 }, (_, i) =>
      Buffer.alloc(1000 + (i % 7) * 911, i % 251)
    );
    const body = Buffer.concat(pieces);

    await pipeline(
      Readable.from(pieces),
      new SftpWriteStream(sftp, Buffer.from('h'))
    );

    expect(Buffer.concat(file).equals(body)).toBe(true);
    const full = writes.slice(0, -1);
    expect(new Set(full.map(w => w.length)).size).toBe(1);
    expect(full[0].length).toBeGreaterThan(8 * 1024);
    expect(writes.at(-1)!.length).toBeLessThanOrEqual(full[0].length);
    expect(writes.map(w => w.position)).toEqual(
      writes.map((_, i) => i * full[0].length)
    );
    expect(maxInFlight()).toBeGreaterThan(1);
    expect(maxInFlight()).toBeLessThanOrEqual(8);
  });

  it('writes a body smaller than one request when it ends', async () => {
    const { sftp, file, writes } = fakeSftp();

    await pipeline(
      Readable.from([Buffer.from('hello '), Buffer.from('world')]),
      new SftpWriteStream(sftp, Buffer.from('h'))
    );

    expect(Buffer.concat(file).toString()).toBe('hello world');
    expect(writes).toEqual([{ position: 0, length: 11 }]);
  });
});
