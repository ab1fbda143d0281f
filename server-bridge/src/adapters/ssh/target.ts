import type { Duplex } from 'node:stream';
/** What an SSH connection is opened to, and what running a command over it takes and gives. */
import type { BaseLogger } from 'pino';
import type { IPinnedHostKey } from './host-key';

export interface ISshTarget {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  hostKey: IPinnedHostKey;
  connectTimeoutMs: number;
  idleCloseMs: number;
  /** A stream to `host:port` to connect over (a hop through another connection); default: TCP. */
  jump?: () => Promise<Duplex>;
  /**
   * Hold a session with a terminal open: sshd then sends without Nagle's delay on the
   * connection, as for an interactive login (relayed kernel messages over a hop).
   */
  interactive?: boolean;
}

export interface IExecOptions {
  /** Kills the command (closes its channel) after this long; default 30 s. */
  timeoutMs?: number;
  /** Sent as SSH env requests; the server must `AcceptEnv` them. */
  env?: Record<string, string>;
  stdin?: string | Buffer;
  /** Output beyond this many bytes per stream fails the command; default 32 MiB. */
  maxOutputBytes?: number;
}

export interface IExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export type SshLogger = Pick<BaseLogger, 'debug' | 'info' | 'warn'>;
