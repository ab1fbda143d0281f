/** The whole config schema, section by section, and the types it yields. */
import { referenceProblems } from './references';
import { z } from 'zod';
import {
  ALWAYS,
  ILoadContext,
  SECRET_KEY_ENV,
  homeRelativePath,
  hostKeySchema,
  httpUrl,
  nameSchema,
  pathSchema,
  rangeSchema,
  secretSchema,
  uniqueNames,
  userMappingSchema
} from './primitives';
import { Secret } from './secret';
import { modelSchema, recipeSchema, servingSchema } from './serving';
import { tierSchema } from './storage';

export const LOG_LEVELS = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent'
] as const;

/** The config schema; a factory because defaults and secrets come from `env` and paths. */
export function configSchema(ctx: ILoadContext) {
  const secret = secretSchema(ctx);
  return z
    .strictObject({
      logLevel: z.enum(LOG_LEVELS).default('info'),
      listen: z
        .strictObject({
          host: z.string().min(1).default('127.0.0.1'),
          port: z.number().int().min(0).max(65535).default(8765)
        })
        .prefault({}),
      basePath: z
        .string()
        .default(() => ctx.env.JUPYTERHUB_SERVICE_PREFIX ?? '/')
        .refine(
          p => p.startsWith('/') && !/[?#\s]/.test(p),
          'must be an absolute URL path like /services/hpc-bridge/'
        )
        .transform(p => (p.endsWith('/') ? p : `${p}/`)),
      hub: z
        .strictObject({
          apiUrl: z
            .preprocess(
              v => v ?? ctx.env.JUPYTERHUB_API_URL,
              httpUrl(
                'required: the hub API URL, e.g. http://127.0.0.1:8081/hub/api (default: $JUPYTERHUB_API_URL)'
              )
            )
            .transform(u => u.replace(/\/+$/, '')),
          serviceName: nameSchema.default('hpc-bridge'),
          /**
           * How long an accepted hub token is trusted without asking the hub again: a
           * token revoked at the hub keeps working for at most this long.
           */
          tokenCacheMs: z.number().int().min(0).max(30_000).default(5_000),
          apiToken: z.preprocess(
            v => v ?? { env: 'JUPYTERHUB_API_TOKEN' },
            secret
          )
        })
        .prefault({ apiUrl: undefined, apiToken: undefined }),
      roles: z
        .strictObject({
          adminGroup: z.string().min(1).nullable().default(null),
          instructorGroupSuffix: z.string().min(1).default('-instructors')
        })
        .prefault({}),
      store: z
        .strictObject({
          /** The SQLite file (the default store); its folder also holds serving files. */
          path: z.literal(':memory:').or(pathSchema(ctx)).optional(),
          /** A PostgreSQL database instead: postgres://user@host:port/db (docs/postgres.md). */
          url: z
            .string()
            .regex(
              /^postgres(ql)?:\/\/[^:@/]*@?[^/]*\/\w/,
              'must be postgres://USER@HOST[:PORT]/DB'
            )
            .refine(u => new URL(u).password === '', {
              message:
                'give the password as store.password (a secret), not in the url'
            })
            .optional(),
          password: secret.optional()
        })
        .refine(s => s.path !== undefined || s.url !== undefined, {
          message: 'the store needs a path (SQLite) or a url (PostgreSQL)'
        }),
      /**
       * Several replicas on one database: each names itself `id` (default host:pid); the
       * one holding the lease runs the pollers, controllers and sweepers, renewing it
       * every third of `leaseSeconds`; when it dies another takes over within that time.
       * Each writes a heartbeat every `heartbeatSeconds`; one silent for three of them is
       * dead, and the leader releases what it held (docs/replicas.md).
       */
      replicas: z
        .strictObject({
          id: z
            .string()
            .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'letters, digits, . _ : -')
            .optional(),
          leaseSeconds: z.number().int().min(3).max(300).default(10),
          heartbeatSeconds: z.number().int().min(1).max(60).default(5)
        })
        .prefault({}),
      clusters: z
        .array(
          z.strictObject({
            name: nameSchema,
            title: z.string().min(1).optional(),
            ssh: z.strictObject({
              host: z.string().min(1),
              port: z.number().int().min(1).max(65535).default(22),
              hostKeyFile: hostKeySchema(ctx),
              serviceUser: z
                .string()
                .regex(/^[a-z_][a-z0-9_.-]*$/i, 'must be a Unix user name'),
              serviceKey: secret,
              connectTimeoutMs: z.number().int().positive().default(10_000),
              idleCloseMs: z.number().int().positive().default(60_000),
              /**
               * Kernels' sockets on their compute node, reached over SSH to the node
               * itself through the login node (pam_slurm_adopt lets a user in where a job
               * of theirs runs). Absent: the sockets are reached on the login node (a
               * one-node cluster, or nodes that are their own login node).
               */
              computeNodes: z
                .strictObject({
                  port: z.number().int().min(1).max(65535).default(22),
                  /** The address the login node connects to; `{node}` is the node's name. */
                  address: z
                    .string()
                    .regex(
                      /^[A-Za-z0-9.:{}_-]{1,253}$/,
                      'a host name or address, {node} standing for the node name'
                    )
                    .default('{node}'),
                  /** The host key the nodes share (one image), pinned. */
                  hostKeyFile: hostKeySchema(ctx)
                })
                .optional()
            }),
            /** Hub user name → cluster account: `{template: "{user}"}` (default) or a `table`. */
            userMapping: userMappingSchema,
            jobs: z
              .strictObject({
                /** Job working directories, relative to the cluster account's home. */
                root: homeRelativePath.default('.hpc-bridge/jobs'),
                /** The cluster's Python with nbclient + nbformat, run on the compute node. */
                python: z
                  .string()
                  .regex(/^\/[A-Za-z0-9._/+-]+$/, 'an absolute path')
                  .default('/usr/bin/python3')
              })
              .prefault({}),
            /** Seconds between two queue polls (one squeue per cluster per tick). */
            pollSeconds: z.number().positive().max(3600).default(10),
            /** Partitions approved for `sensitive` data (see the data-class policies). */
            compliantPartitions: z
              .array(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a partition name'))
              .default([])
              .refine(
                ps => new Set(ps).size === ps.length,
                'duplicate partition'
              )
          })
        )
        .default([])
        .superRefine(uniqueNames, ALWAYS)
        .transform(cs => cs.map(c => ({ ...c, title: c.title ?? c.name }))),
      /** Encrypts users' SSH keys in the store; required when clusters are configured. */
      secretKey: secret
        .refine(
          s => /^[0-9a-fA-F]{64}$/.test(s.reveal()),
          'must be 64 hex characters (a 32-byte key)'
        )
        .optional(),
      /** Job webhooks: by default only to public addresses (no loopback, private, link-local). */
      webhooks: z
        .strictObject({ allowPrivateNetworks: z.boolean().default(false) })
        .default({ allowPrivateNetworks: false }),
      /**
       * How often triggers look: the runner's tick, and the listing scan of each watched
       * tier folder (one bounded listing per scan, so this bounds their cost); how long a
       * run waits before it is tried again after a passing failure.
       */
      triggers: z
        .strictObject({
          tickSeconds: z.number().min(1).max(300).default(5),
          scanSeconds: z.number().min(1).max(3600).default(30),
          retrySeconds: z.number().min(1).max(3600).default(60)
        })
        .default({ tickSeconds: 5, scanSeconds: 30, retrySeconds: 60 }),
      /**
       * How long the copy of a job's declared outputs to their tiers may take: each output
       * is tried `attempts` times (waiting `backoffSeconds`, doubled each time, between
       * tries), all within `deadlineMinutes` of the job's end; then it is failed.
       */
      stageOut: z
        .strictObject({
          attempts: z.number().int().min(1).max(10).default(3),
          backoffSeconds: z.number().min(0).max(600).default(10),
          deadlineMinutes: z
            .number()
            .positive()
            .max(24 * 60)
            .default(60)
        })
        .default({ attempts: 3, backoffSeconds: 10, deadlineMinutes: 60 }),
      /** Job presets offered to users (partition, resources with ranges). */
      profiles: z
        .array(
          z.strictObject({
            name: nameSchema,
            title: z.string().min(1),
            description: z.string().optional(),
            cluster: nameSchema,
            partition: z
              .string()
              .regex(/^[A-Za-z0-9_.-]+$/, 'a partition name'),
            timeMinutes: rangeSchema(),
            cpus: rangeSchema(),
            memoryMB: rangeSchema(),
            gpus: rangeSchema(),
            /** Kernelspec names the cluster has for this profile's jobs; notebooks with another are refused. */
            kernels: z
              .array(
                z
                  .string()
                  .regex(
                    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
                    'a kernelspec name'
                  )
              )
              .min(1)
              .default(['python3'])
          })
        )
        .default([])
        .superRefine(uniqueNames, ALWAYS),
      /**
       * Cluster kernels (a notebook's kernel as a SLURM job): the profiles offered as
       * kernels, when an idle kernel is culled, how long a launcher's lease lasts.
       */
      kernels: z
        .strictObject({
          profiles: z
            .array(nameSchema)
            .default([])
            .refine(ps => new Set(ps).size === ps.length, 'duplicate profile'),
          idleMinutes: z.number().int().min(1).max(10_080).default(60),
          leaseSeconds: z.number().int().min(10).max(3600).default(60)
        })
        .prefault({}),
      s3: z
        .array(
          z.strictObject({
            name: nameSchema,
            endpoint: httpUrl('must be an http(s) URL'),
            /**
             * The endpoint as browsers reach it. When set, uploads go straight from the
             * browser to S3 with presigned part URLs (the endpoint must allow CORS from
             * the hub's origin); otherwise they stream through the bridge.
             */
            publicEndpoint: httpUrl('must be an http(s) URL').optional(),
            region: z.string().min(1).default('us-east-1'),
            accessKeyId: secret,
            secretAccessKey: secret
          })
        )
        .default([])
        .superRefine(uniqueNames, ALWAYS),
      storage: z
        .strictObject({
          /**
           * Absolute URL of the hub as users reach it (e.g. https://hub.example.org), for
           * share links; default: the scheme and host of the request that made the link.
           */
          linkBaseUrl: httpUrl('must be an http(s) URL')
            .transform(u => u.replace(/\/+$/, ''))
            .optional(),
          tiers: z
            .array(tierSchema)
            .default([])
            .superRefine(uniqueNames, ALWAYS)
        })
        .prefault({}),
      serving: servingSchema(secret).prefault({}),
      recipes: z
        .array(recipeSchema)
        .default([])
        .superRefine(uniqueNames, ALWAYS),
      models: z.array(modelSchema).default([]).superRefine(uniqueNames, ALWAYS)
    })
    .transform((c, tx) => {
      // Not a field default: zod skips the schema of an absent optional key.
      const fromEnv = ctx.env[SECRET_KEY_ENV];
      const secretKey =
        c.secretKey ??
        (fromEnv === undefined || fromEnv === ''
          ? undefined
          : new Secret(fromEnv, `env:${SECRET_KEY_ENV}`));
      if (
        secretKey !== undefined &&
        !/^[0-9a-fA-F]{64}$/.test(secretKey.reveal())
      ) {
        tx.addIssue({
          code: 'custom',
          path: ['secretKey'],
          message: `${secretKey.source}: must be 64 hex characters (a 32-byte key)`
        });
      }
      if (c.clusters.length > 0 && secretKey === undefined) {
        tx.addIssue({
          code: 'custom',
          path: ['secretKey'],
          message: `required when clusters are configured: 64 hex characters, by default from $${SECRET_KEY_ENV} (not set)`
        });
      }
      // The tiers as written (`s3` or `sftp`), for the check shared with check-config.
      const asWritten = {
        ...c,
        storage: { tiers: c.storage.tiers.map(t => t.location) }
      };
      for (const problem of referenceProblems(asWritten)) {
        tx.addIssue({ code: 'custom', ...problem });
      }
      c.kernels.profiles.forEach((name, i) => {
        if (!c.profiles.some(p => p.name === name)) {
          tx.addIssue({
            code: 'custom',
            path: ['kernels', 'profiles', i],
            message: `no profile named "${name}"`
          });
        }
      });
      const slurm = c.serving.providers.slurm;
      const slurmCluster = c.clusters.find(k => k.name === slurm?.cluster);
      if (
        slurm?.compliant === true &&
        slurmCluster !== undefined &&
        !slurmCluster.compliantPartitions.includes(slurm.partition)
      ) {
        tx.addIssue({
          code: 'custom',
          path: ['serving', 'providers', 'slurm', 'compliant'],
          message: `the slurm provider runs on partition "${slurm.partition}", which cluster "${slurmCluster.name}" does not list in compliantPartitions`
        });
      }
      c.models.forEach((m, i) => {
        // A model may name a provider this bridge lacks (e.g. openstack while the cloud
        // is off); the catalog offers only configured ones, and at least one must be.
        if (!m.providers.some(p => c.serving.providers[p] !== undefined)) {
          tx.addIssue({
            code: 'custom',
            path: ['models', i, 'providers'],
            message: `none of ${m.providers.join(', ')} is configured in serving.providers`
          });
        }
      });
      return { ...c, secretKey };
    });
}

export type BridgeConfig = z.output<ReturnType<typeof configSchema>>;
export type ClusterConfig = BridgeConfig['clusters'][number];
export type S3Config = BridgeConfig['s3'][number];
export type ProfileConfig = BridgeConfig['profiles'][number];
export type TierConfig = BridgeConfig['storage']['tiers'][number];
export type ServingConfig = BridgeConfig['serving'];
export type OpenStackConfig = NonNullable<
  ServingConfig['providers']['openstack']
>;
export type RecipeConfig = BridgeConfig['recipes'][number];
export type ModelConfig = BridgeConfig['models'][number];
export type KernelsConfig = BridgeConfig['kernels'];
