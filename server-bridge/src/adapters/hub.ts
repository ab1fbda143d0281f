/** Health check of the hub: the bridge's own token must resolve to the bridge service. */
import { z } from 'zod';
import type { IHubPort } from '../ports/hub';

const ServiceModelSchema = z.looseObject({
  kind: z.string(),
  name: z.string()
});

export class HubApi implements IHubPort {
  constructor(
    private readonly apiUrl: string,
    private readonly apiToken: string
  ) {}

  async check(signal: AbortSignal): Promise<string> {
    const res = await fetch(`${this.apiUrl}/user`, {
      headers: {
        authorization: `token ${this.apiToken}`,
        accept: 'application/json'
      },
      signal,
      redirect: 'manual'
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`hub answered ${res.status} for the bridge's own token`);
    }
    const model = ServiceModelSchema.parse(await res.json());
    return `token of ${model.kind} ${model.name}`;
  }
}
