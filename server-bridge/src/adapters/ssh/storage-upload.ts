/** Uploads go to a hidden temporary name next to the target, renamed over it at the end. */
import { randomBytes } from 'node:crypto';
import type { SFTPWrapper } from 'ssh2';
import { done, NO_SUCH_FILE, sftpCode } from './storage-sftp';

/** Uploads land in a hidden sibling first; listings never show one, even one left by a crash. */
export const UPLOAD_TEMP = /^\..+\.hpc-upload-[0-9a-f]{12}$/;

/** Bytes the temporary name adds to the file's own: a dot and `.hpc-upload-` + 12 hex. */
const TEMP_EXTRA = 1 + 12 + 12;

/**
 * `.NAME.hpc-upload-RANDOM` next to the target, NAME shortened (whole characters) so
 * that the temporary name stays within the file system's 255 bytes.
 */
export function uploadTempName(target: string): string {
  const slash = target.lastIndexOf('/');
  let name = target.slice(slash + 1);
  while (Buffer.byteLength(name) > 255 - TEMP_EXTRA) {
    name = Array.from(name).slice(0, -1).join('');
  }
  return `${target.slice(0, slash + 1)}.${name}.hpc-upload-${randomBytes(6).toString('hex')}`;
}

/** Renames `temp` over `target` in one step where the server can (posix-rename). */
export async function renameOver(
  sftp: SFTPWrapper,
  temp: string,
  target: string
): Promise<void> {
  try {
    await done(cb => sftp.ext_openssh_rename(temp, target, cb));
    return;
  } catch (e) {
    if (sftpCode(e) !== undefined) {
      throw e;
    }
    // Thrown synchronously: the server lacks the extension.
  }
  await done(cb => sftp.unlink(target, cb)).catch((e: unknown) => {
    if (sftpCode(e) !== NO_SUCH_FILE) {
      throw e;
    }
  });
  await done(cb => sftp.rename(temp, target, cb));
}
