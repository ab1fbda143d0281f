/**
 * The bridge's singletons: the work only one replica may do at a time (polling SLURM,
 * controlling endpoints, running triggers, resuming stage-outs, sweeping, sampling
 * health). Each can be started again after a stop: a replica may lead several times.
 */
import type { Logger } from 'pino';
import type { HealthSampler } from './admin/health-history';
import type { EndpointController } from './endpoints/controller';
import type { JobKeys } from './endpoints/job-keys';
import type { JobPoller } from './jobs/poller';
import type { StageOut } from './lineage/stage-out';
import type { ISingleton } from './replicas/singletons';
import type { StorageService } from './storage/service';
import type { TriggerRunner } from './triggers/runner';

/** How often expired upload sessions are aborted and their reservations released. */
const UPLOAD_SWEEP_MS = 5 * 60 * 1000;

export function bridgeSingletons(a: {
  logger: Logger;
  healthSampler: HealthSampler;
  jobKeys: JobKeys;
  storage: StorageService;
  pollers: Iterable<JobPoller>;
  kernels: { start: () => void; stop: () => void };
  stageOut: StageOut;
  controller: EndpointController;
  triggers: TriggerRunner;
}): ISingleton[] {
  const { logger } = a;
  let uploadSweep: NodeJS.Timeout | undefined;
  return [
    {
      name: 'health sampler',
      start: () => a.healthSampler.start(),
      stop: () => a.healthSampler.stop()
    },
    {
      name: 'job key revocation',
      start: () => {
        const revoked = a.jobKeys.revokeEnded();
        if (revoked > 0) {
          logger.info({ keys: revoked }, 'keys of ended jobs revoked');
        }
      },
      stop: () => undefined
    },
    {
      name: 'upload sweep',
      start: () => {
        uploadSweep = setInterval(() => {
          a.storage.uploads.sweep().catch((e: unknown) => {
            logger.warn({ err: e }, 'expired upload sweep failed');
          });
        }, UPLOAD_SWEEP_MS);
        uploadSweep.unref();
      },
      stop: () => clearInterval(uploadSweep)
    },
    {
      name: 'job pollers',
      start: () => {
        for (const p of a.pollers) {
          p.start();
        }
      },
      stop: () => {
        for (const p of a.pollers) {
          p.stop();
        }
      }
    },
    { name: 'kernel pollers', start: a.kernels.start, stop: a.kernels.stop },
    {
      name: 'stage-out resume',
      // Jobs ended in the database before this start: none of them is a poller's.
      start: () => {
        a.stageOut.resume().then(
          n => {
            if (n > 0) {
              logger.info({ jobs: n }, 'stage-outs resumed');
            }
          },
          (e: unknown) => {
            logger.error({ err: e }, 'stage-outs not resumed');
          }
        );
      },
      stop: () => undefined
    },
    {
      name: 'endpoint controller',
      start: () => {
        a.controller.start().catch((e: unknown) => {
          logger.error({ err: e }, 'endpoint controller did not start');
        });
      },
      // Demoted: the loop ends; the gateway routes from the store as on any follower.
      stop: () => a.controller.follow()
    },
    {
      name: 'trigger runner',
      start: () => a.triggers.start(),
      stop: () => a.triggers.stop()
    }
  ];
}
