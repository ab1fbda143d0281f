/**
 * SSH connections to login nodes (ssh2): one per (cluster, user), opened on first use,
 * reopened after a failure, closed when idle. Host keys are pinned.
 */
import {
  Client,
  type ClientChannel,
  type ConnectConfig,
  type SFTPWrapper
} from 'ssh2';
import { hostKeyAlgorithms, hostKeyMatches } from './host-key';
import { commandLine } from '../../shell-quote';
import {
  connectionGone,
  MAX_CHANNELS,
  openRetryingRefusals,
  SshError
} from './channel-refusals';
import type {
  IExecOptions,
  IExecResult,
  ISshTarget,
  SshLogger
} from './target';

// Imported from here by the rest of the bridge and by its tests.
export { SshError } from './channel-refusals';
export type { IExecResult, ISshTarget } from './target';

/** One SSH connection with lazy connect, reconnect after loss and idle close. */
export class SshConnection {
  private client: Client | null = null;
  private freeChannels = MAX_CHANNELS;
  private readonly channelWaiters: (() => void)[] = [];
  private connecting: Promise<Client> | null = null;
  private active = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly target: ISshTarget,
    private readonly log: SshLogger,
    private readonly label: string
  ) {}

  /** Runs `argv` on the remote host; the command line is built only by `commandLine`. */
  async exec(
    argv: readonly string[],
    options: IExecOptions = {}
  ): Promise<IExecResult> {
    const command = commandLine(argv);
    this.active += 1;
    this.clearIdle();
    try {
      const client = await this.connect();
      await this.acquireChannel();
      try {
        return await this.run(client, command, options);
      } finally {
        this.releaseChannel();
      }
    } finally {
      this.active -= 1;
      this.armIdle();
    }
  }

  private async acquireChannel(): Promise<void> {
    if (this.freeChannels > 0) {
      this.freeChannels -= 1;
      return;
    }
    await new Promise<void>(resolve => this.channelWaiters.push(resolve));
  }

  private releaseChannel(): void {
    const next = this.channelWaiters.shift();
    if (next !== undefined) {
      next();
    } else {
      this.freeChannels += 1;
    }
  }

  /** Runs `fn` with an SFTP session on this connection, closed afterwards. */
  async withSftp<T>(fn: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    this.active += 1;
    this.clearIdle();
    try {
      const client = await this.connect();
      await this.acquireChannel();
      let sftp: SFTPWrapper;
      try {
        sftp = await openRetryingRefusals(
          () =>
            new Promise<SFTPWrapper>((resolve, reject) => {
              this.onLiveClient(client, reject, () =>
                client.sftp((err, s) => {
                  if (err) {
                    reject(
                      connectionGone(err)
                        ? this.lostDuring('the start of SFTP', err)
                        : new SshError(
                            `cannot start sftp: ${err.message}`,
                            'exec'
                          )
                    );
                  } else {
                    resolve(s);
                  }
                })
              );
            })
        );
      } catch (e) {
        this.releaseChannel();
        throw e;
      }
      // A request pending when the connection drops never gets its callback: the
      // channel's close (or the connection's) ends the session as a lost connection.
      let lost: () => void = () => undefined;
      const cutOff = new Promise<never>((_resolve, reject) => {
        lost = () => reject(this.lostDuring('the file transfer'));
      });
      cutOff.catch(() => undefined);
      let channelOpen = true;
      sftp.once('close', () => {
        channelOpen = false;
        lost();
      });
      client.once('close', lost);
      try {
        return await Promise.race([fn(sftp), cutOff]);
      } catch (e) {
        throw e instanceof Error && connectionGone(e)
          ? this.lostDuring('the file transfer', e)
          : e;
      } finally {
        // Free the slot only once the server has closed the channel.
        await new Promise<void>(resolve => {
          if (!channelOpen) {
            resolve();
            return;
          }
          const timer = setTimeout(resolve, 2_000);
          sftp.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          sftp.end();
        });
        client.off('close', lost);
        this.releaseChannel();
      }
    } finally {
      this.active -= 1;
      this.armIdle();
    }
  }

  /**
   * A stream to the Unix socket `path` on the remote host (`openssh_forwardOutStreamLocal`;
   * sshd needs AllowStreamLocalForwarding). Forwarded channels are not sessions (no
   * MaxSessions slot); the connection stays open while one is.
   */
  openStreamLocal(path: string): Promise<ClientChannel> {
    return this.openForward(path, (client, done) =>
      client.openssh_forwardOutStreamLocal(path, done)
    );
  }

  /** A TCP stream to `host:port` as the login node connects (`direct-tcpip`). */
  forwardOut(host: string, port: number): Promise<ClientChannel> {
    return this.openForward(`${host}:${port}`, (client, done) =>
      client.forwardOut('127.0.0.1', 0, host, port, done)
    );
  }

  private async openForward(
    what: string,
    open: (
      client: Client,
      done: (err: Error | undefined, channel: ClientChannel) => void
    ) => void
  ): Promise<ClientChannel> {
    this.active += 1;
    this.clearIdle();
    const done = (): void => {
      this.active -= 1;
      this.armIdle();
    };
    try {
      const client = await this.connect();
      const stream = await new Promise<ClientChannel>((resolve, reject) => {
        this.onLiveClient(client, reject, () =>
          open(client, (err, channel) => {
            if (err) {
              reject(
                connectionGone(err)
                  ? this.lostDuring('the start of a relay', err)
                  : new SshError(`cannot open ${what}: ${err.message}`, 'exec')
              );
            } else {
              resolve(channel);
            }
          })
        );
      });
      stream.once('close', done);
      return stream;
    } catch (e) {
      done();
      throw e;
    }
  }

  /** Opens the connection ahead of use; it closes when idle as after any use. */
  async warm(): Promise<void> {
    this.active += 1;
    this.clearIdle();
    try {
      await this.connect();
    } finally {
      this.active -= 1;
      this.armIdle();
    }
  }

  /** Opens the connection if needed; resolves when the session is authenticated. */
  async connect(): Promise<Client> {
    if (this.closed) {
      throw new SshError(`${this.label}: connection pool closed`, 'connect');
    }
    if (this.client !== null) {
      return this.client;
    }
    if (this.connecting === null) {
      this.connecting = this.open().finally(() => {
        this.connecting = null;
      });
    }
    return this.connecting;
  }

  private open(): Promise<Client> {
    const t = this.target;
    return new Promise<Client>((resolve, reject) => {
      const client = new Client();
      let ready = false;
      let hostKeyRejected = false;
      client.on('ready', () => {
        ready = true;
        // Relayed kernel messages and log lines are small writes that wait for answers.
        client.setNoDelay(true);
        if (t.interactive === true) {
          client.exec('cat', { pty: true }, (err, channel) => {
            if (err === undefined) {
              channel.on('data', () => undefined);
            }
          });
        }
        this.client = client;
        this.log.debug({ ssh: this.label }, 'ssh connected');
        resolve(client);
      });
      client.on('error', (err: Error & { level?: string }) => {
        if (!ready) {
          const msg = hostKeyRejected
            ? `host key of ${t.host}:${t.port} does not match the pinned key`
            : `cannot connect to ${t.host}:${t.port} as ${t.username}: ${err.message}`;
          const authFailed =
            !hostKeyRejected &&
            (err.level === 'client-authentication' ||
              /All configured authentication methods failed/.test(err.message));
          reject(new SshError(msg, 'connect', authFailed));
        } else {
          this.log.warn(
            { ssh: this.label, err: err.message },
            'ssh connection error'
          );
        }
      });
      client.on('close', () => {
        if (this.client === client) {
          this.client = null;
        }
        if (!ready) {
          reject(
            new SshError(
              `connection to ${t.host}:${t.port} closed during setup`,
              'connect'
            )
          );
        }
      });
      const config: ConnectConfig = {
        host: t.host,
        port: t.port,
        username: t.username,
        privateKey: t.privateKey,
        readyTimeout: t.connectTimeoutMs,
        keepaliveInterval: 15_000,
        keepaliveCountMax: 3,
        algorithms: { serverHostKey: hostKeyAlgorithms(t.hostKey) },
        hostVerifier: (key: Buffer): boolean => {
          const ok = hostKeyMatches(t.hostKey, key);
          hostKeyRejected = !ok;
          return ok;
        }
      };
      if (t.jump === undefined) {
        client.connect(config);
      } else {
        t.jump().then(
          sock => client.connect({ ...config, sock }),
          (e: unknown) =>
            reject(
              new SshError(
                `cannot reach ${t.host}:${t.port}: ${(e as Error).message}`,
                'connect'
              )
            )
        );
      }
    });
  }

  /**
   * Calls `open` on `client`; ssh2 throws "Not connected" synchronously when the
   * connection went away after `connect()` handed it out (sshd restarted). That is a lost
   * connection (stage `connect`, 503) and the next call connects afresh.
   */
  private onLiveClient(
    client: Client,
    reject: (e: Error) => void,
    open: () => unknown
  ): void {
    try {
      open();
    } catch (e) {
      if (this.client === client) {
        this.client = null;
      }
      client.end();
      const t = this.target;
      reject(
        new SshError(
          `the connection to ${t.host}:${t.port} was lost (${(e as Error).message})`,
          'connect'
        )
      );
    }
  }

  /** The connection went away while a channel was open: stage `connect`, 503. */
  private lostDuring(what: string, cause?: unknown): SshError {
    const t = this.target;
    const why = cause instanceof Error ? ` (${cause.message})` : '';
    return new SshError(
      `the connection to ${t.host}:${t.port} was lost during ${what}${why}`,
      'connect'
    );
  }

  private openExec(
    client: Client,
    command: string,
    options: IExecOptions
  ): Promise<ClientChannel> {
    return openRetryingRefusals(
      () =>
        new Promise<ClientChannel>((resolve, reject) => {
          this.onLiveClient(client, reject, () =>
            client.exec(
              command,
              { env: options.env },
              (err: Error | undefined, stream: ClientChannel) => {
                if (err) {
                  reject(
                    connectionGone(err)
                      ? this.lostDuring('the start of a command', err)
                      : new SshError(
                          `cannot start command: ${err.message}`,
                          'exec'
                        )
                  );
                } else {
                  resolve(stream);
                }
              }
            )
          );
        })
    );
  }

  private async run(
    client: Client,
    command: string,
    options: IExecOptions
  ): Promise<IExecResult> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const maxBytes = options.maxOutputBytes ?? 32 * 1024 * 1024;
    const stream = await this.openExec(client, command, options);
    return new Promise<IExecResult>((resolve, reject) => {
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let outBytes = 0;
      let errBytes = 0;
      let settled = false;
      const fail = (e: SshError): void => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          stream.close();
          reject(e);
        }
      };
      const timer = setTimeout(
        () =>
          fail(
            new SshError(`command timed out after ${timeoutMs} ms`, 'timeout')
          ),
        timeoutMs
      );
      stream.on('data', (chunk: Buffer) => {
        outBytes += chunk.length;
        if (outBytes > maxBytes) {
          fail(new SshError('command output too large', 'exec'));
        } else {
          out.push(chunk);
        }
      });
      stream.stderr.on('data', (chunk: Buffer) => {
        errBytes += chunk.length;
        if (errBytes <= maxBytes) {
          errOut.push(chunk);
        }
      });
      stream.on(
        'close',
        (
          code: number | null | undefined,
          signal: string | null | undefined
        ) => {
          if (settled) {
            return;
          }
          settled = true;
          clearTimeout(timer);
          if ((code ?? null) === null && (signal ?? null) === null) {
            // sshd sends an exit status or signal for every command it ran to its end.
            reject(this.lostDuring('the command'));
            return;
          }
          resolve({
            code: code ?? null,
            signal: signal ?? null,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(errOut).toString('utf8')
          });
        }
      );
      if (options.stdin !== undefined) {
        stream.end(options.stdin);
      } else {
        stream.end();
      }
    });
  }

  private clearIdle(): void {
    if (this.idleTimer !== null) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
  }

  private armIdle(): void {
    this.clearIdle();
    if (this.active > 0 || this.client === null) {
      return;
    }
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.active === 0 && this.client !== null) {
        this.log.debug({ ssh: this.label }, 'ssh idle, closing');
        this.client.end();
        this.client = null;
      }
    }, this.target.idleCloseMs);
    this.idleTimer.unref();
  }

  /** Closes the connection; later calls fail. */
  close(): void {
    this.closed = true;
    this.clearIdle();
    this.client?.end();
    this.client = null;
  }
}

/** Connections keyed by (cluster, user). */
export class SshPool {
  private readonly connections = new Map<string, SshConnection>();

  constructor(private readonly log: SshLogger) {}

  get(cluster: string, target: ISshTarget): SshConnection {
    const key = `${cluster}\0${target.username}`;
    let conn = this.connections.get(key);
    if (conn === undefined) {
      conn = new SshConnection(
        target,
        this.log,
        `${target.username}@${cluster}`
      );
      this.connections.set(key, conn);
    }
    return conn;
  }

  closeAll(): void {
    for (const conn of this.connections.values()) {
      conn.close();
    }
    this.connections.clear();
  }
}
