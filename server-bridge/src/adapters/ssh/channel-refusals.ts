/** SSH errors, and the channel refusals of a busy sshd that are retried. */
export class SshError extends Error {
  constructor(
    message: string,
    /**
     * `connect` when no session could be set up, `exec` when the command failed to run,
     * `busy` when the server kept refusing new channels.
     */
    readonly stage: 'connect' | 'exec' | 'timeout' | 'busy',
    /** The server refused the key (`All configured authentication methods failed`). */
    readonly authFailed = false
  ) {
    super(message);
    this.name = 'SshError';
  }
}

/**
 * Channels (commands, SFTP sessions) open at once on one connection. OpenSSH refuses
 * more than `MaxSessions` (default 10) with "Channel open failure"; further ones wait.
 */
export const MAX_CHANNELS = 8;

/** ssh2's answers to a channel request on a connection that has just gone away. */
export const connectionGone = (e: Error): boolean =>
  /No response from server|Not connected|ECONNRESET/.test(e.message) ||
  (e as NodeJS.ErrnoException).code === 'ECONNRESET';

const isChannelRefusal = (e: unknown): boolean =>
  /Channel open failure/.test((e as Error).message);

export interface IRefusalRetry {
  /** How long refusals are retried before the server counts as busy. */
  forMs: number;
  firstDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Opens a channel, retrying while the server refuses it. sshd frees a session only once
 * its child process is reaped, so under load it still counts sessions whose channels
 * the client has seen close ("no more sessions" in its log): the refusal is transient.
 * Other errors pass through; refusals beyond `forMs` become SshError stage `busy`.
 */
export async function openRetryingRefusals<T>(
  open: () => Promise<T>,
  retry: IRefusalRetry = { forMs: 10_000, firstDelayMs: 25 }
): Promise<T> {
  const sleep =
    retry.sleep ?? ((ms: number) => new Promise<void>(r => setTimeout(r, ms)));
  let waited = 0;
  let delay = retry.firstDelayMs;
  for (;;) {
    try {
      return await open();
    } catch (e) {
      if (!isChannelRefusal(e)) {
        throw e;
      }
      if (waited >= retry.forMs) {
        throw new SshError(
          `the server refused new channels for ${waited} ms: ${(e as Error).message}`,
          'busy'
        );
      }
      const pause = Math.min(delay, retry.forMs - waited);
      await sleep(pause);
      waited += pause;
      delay = Math.min(delay * 2, 1_000);
    }
  }
}
