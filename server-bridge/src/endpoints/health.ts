/** The health check of a replica: what decides that it may get requests. */

/** GETs the health path of a replica; ok on a 2xx answer. */
export type HealthCheck = (
  url: string,
  apiKey: string
) => Promise<{ ok: boolean; detail: string }>;

export const httpHealthCheck: HealthCheck = async (url, apiKey) => {
  try {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${apiKey}` },
      signal: AbortSignal.timeout(5000)
    });
    await res.arrayBuffer().catch(() => undefined);
    return { ok: res.ok, detail: `HTTP ${res.status}` };
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return {
      ok: false,
      detail: cause?.code ?? cause?.message ?? (e as Error).message
    };
  }
};
