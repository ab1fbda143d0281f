/**
 * Why a cluster is listed as down, in one sentence that names the cluster and the part
 * that failed: with several clusters, users and admins see at once which one is out and
 * that the others are not.
 */
export function clusterDownReason(cluster: string, e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  // SlurmCommandError: SLURM's client could not reach the controller.
  if ((e as { controllerDown?: unknown }).controllerDown === true) {
    return `slurmctld of ${cluster} not reachable: ${message}`;
  }
  // SshError before any command ran: no session with the login node.
  if ((e as { stage?: unknown }).stage === 'connect') {
    return `login node of ${cluster} not reachable over SSH: ${message}`;
  }
  return `${cluster}: ${message}`;
}
