/** What the bridge asks of JupyterHub's REST API beyond token checks (auth/hub-auth.ts). */
export interface IHubPort {
  /** Resolves with a short detail when the hub answers and knows the bridge's token. */
  check(signal: AbortSignal): Promise<string>;
}
