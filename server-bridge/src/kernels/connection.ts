/**
 * The kernel's connection file on the cluster. The bridge writes it (0600, in the 0700
 * runtime folder) with `transport: ipc`, `ip: <runtime dir>/k` and ports 1–5, so that
 * ipykernel listens on the Unix sockets `<runtime dir>/k-<port>`; ipykernel rewrites it
 * once its sockets are bound (adding `kernel_name`), which is how the bridge learns that
 * the kernel is ready and which socket is which channel.
 */
import { z } from 'zod';
import { KERNEL_CHANNELS, type KernelStart } from '../contract';
import { DomainError } from '../domain-error';
import type { IUserClusterPort, IUserKernelPort } from '../ports/slurm';
import type { KernelPorts } from './repository/kernels';

export const CONNECTION_FILE = 'kernel.json';
/** ipykernel's ipc sockets are `<ip>-<port>`. */
export const SOCKET_PREFIX = 'k';

/** Unix socket paths are limited to 108 bytes (sun_path); keep room for `-<port>`. */
export const MAX_SOCKET_PATH = 100;

export function connectionFileOf(runtimeDir: string): string {
  return `${runtimeDir}/${CONNECTION_FILE}`;
}

export function socketPath(runtimeDir: string, port: number): string {
  return `${runtimeDir}/${SOCKET_PREFIX}-${port}`;
}

/** The file as the bridge writes it, before ipykernel starts. */
export function connectionFile(
  runtimeDir: string,
  connection: KernelStart['connection']
): string {
  return `${JSON.stringify(
    {
      transport: 'ipc',
      ip: `${runtimeDir}/${SOCKET_PREFIX}`,
      shell_port: 1,
      iopub_port: 2,
      stdin_port: 3,
      control_port: 4,
      hb_port: 5,
      key: connection.key,
      signature_scheme: connection.signatureScheme
    },
    null,
    1
  )}\n`;
}

const WrittenSchema = z.object({
  transport: z.literal('ipc'),
  kernel_name: z.string(),
  shell_port: z.number().int().positive(),
  iopub_port: z.number().int().positive(),
  stdin_port: z.number().int().positive(),
  control_port: z.number().int().positive(),
  hb_port: z.number().int().positive()
});

/**
 * The channels' socket numbers from the file ipykernel wrote; null while it is still the
 * bridge's own file (no `kernel_name`) or half-written (ipykernel deletes and rewrites it).
 */
export function portsWritten(data: Buffer | null): KernelPorts | null {
  if (data === null) {
    return null;
  }
  let json: unknown;
  try {
    json = JSON.parse(data.toString('utf8'));
  } catch {
    return null;
  }
  const parsed = WrittenSchema.safeParse(json);
  if (!parsed.success) {
    return null;
  }
  const ports = {} as KernelPorts;
  for (const channel of KERNEL_CHANNELS) {
    ports[channel] = parsed.data[`${channel}_port`];
  }
  return ports;
}

/** The session's kernel port; 400 for a cluster whose adapter has none. */
export function kernelPort(
  s: IUserClusterPort,
  cluster: string
): IUserKernelPort {
  if (s.kernels === undefined) {
    throw new DomainError(
      'bad_request',
      `Cluster ${cluster} does not run kernels through this bridge`
    );
  }
  return s.kernels;
}
