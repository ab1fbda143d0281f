/** Checks of a job request that need no cluster: resources against the profile, the webhook's target. */
import { isPublicAddress, literalAddress } from './webhook-target';
import type { BridgeConfig, ProfileConfig } from '../config';
import type { Resources } from '../contract';
import { DomainError } from '../domain-error';

/** The profile's defaults with the user's overrides, each checked against its range. */
export function resolveResources(
  profile: ProfileConfig,
  overrides: Partial<Resources> = {}
): Resources {
  const keys = ['timeMinutes', 'cpus', 'memoryMB', 'gpus'] as const;
  const out = {} as Resources;
  const problems: { field: string; value: number; min: number; max: number }[] =
    [];
  for (const k of keys) {
    const range = profile[k];
    const value = overrides[k] ?? range.default;
    const min = k === 'gpus' ? range.min : Math.max(1, range.min);
    if (value < min || value > range.max) {
      problems.push({ field: k, value, min, max: range.max });
    }
    out[k] = value;
  }
  if (problems.length > 0) {
    throw new DomainError(
      'bad_request',
      `Resources outside the limits of profile ${profile.name}: ${problems
        .map(p => `${p.field}=${p.value} (allowed ${p.min}–${p.max})`)
        .join(', ')}`,
      problems
    );
  }
  return out;
}

/**
 * A webhook must not point back at the bridge (directly or through the hub's proxy), nor,
 * unless the admin allows private networks, at a non-public address literal. Names are
 * checked again after DNS when the webhook is called.
 */
export function checkWebhookUrl(url: string, config: BridgeConfig): void {
  const u = new URL(url);
  const literal = u.hostname === 'localhost' ? '127.0.0.1' : literalAddress(u);
  if (
    !config.webhooks.allowPrivateNetworks &&
    literal !== null &&
    !isPublicAddress(literal)
  ) {
    throw new DomainError(
      'bad_request',
      'webhookUrl must be a public address (the bridge does not call loopback or private networks)'
    );
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]', config.listen.host];
  const port =
    u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
  const base = config.basePath.replace(/\/+$/, '');
  if (
    (loopback.includes(u.hostname) && port === config.listen.port) ||
    (base !== '' && u.pathname.startsWith(`${base}/`))
  ) {
    throw new DomainError(
      'bad_request',
      'webhookUrl must not point at the HPC Bridge itself'
    );
  }
}
