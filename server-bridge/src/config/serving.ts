/** The serving sections: recipes, models, the serving providers (local, slurm, openstack). */
import { z } from 'zod';
import {
  byteSizeSchema,
  homeRelativePath,
  httpUrl,
  nameSchema,
  rangeSchema,
  secretSchema
} from './primitives';
import { Secret } from './secret';
import { TIER_CLASSES } from './storage';

/** Placeholders a serving recipe may use, each inside one argv token. */
export const RECIPE_PLACEHOLDERS = [
  'model',
  'host',
  'port',
  'threads'
] as const;

export const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * A serving recipe: the model server's argv (never a shell string), with placeholders
 * inside tokens, the path it answers health checks on, and the environment variable it
 * reads its API key from (a key in the argv would be visible to every local user).
 */
export const recipeSchema = z
  .strictObject({
    name: nameSchema,
    command: z
      .array(
        z
          .string()
          .min(1)
          .refine(t => !/[\0\n\r]/.test(t), 'no NUL or line breaks')
      )
      .min(1),
    health: z
      .string()
      .regex(/^\/[A-Za-z0-9._~/-]*$/, 'an absolute URL path such as /health')
      .default('/health'),
    /** llama-server reads `LLAMA_API_KEY`, vLLM `VLLM_API_KEY`. */
    keyEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'an environment variable name')
      .default('LLAMA_API_KEY')
  })
  .superRefine((r, tx) => {
    r.command.forEach((token, i) => {
      for (const m of token.matchAll(PLACEHOLDER)) {
        if (m[1] === 'upstream_key') {
          tx.addIssue({
            code: 'custom',
            path: ['command', i],
            message: `{upstream_key} would put the replica's key on its command line, where every local user sees it; the bridge hands it in the environment variable named by keyEnv (default LLAMA_API_KEY)`
          });
        } else if (
          !(RECIPE_PLACEHOLDERS as readonly string[]).includes(m[1] ?? '')
        ) {
          tx.addIssue({
            code: 'custom',
            path: ['command', i],
            message: `unknown placeholder ${m[0]} (allowed: ${RECIPE_PLACEHOLDERS.map(p => `{${p}}`).join(' ')})`
          });
        }
      }
    });
    const program = r.command[0] ?? '';
    if (!/^(\/[A-Za-z0-9._+-]+)+$/.test(program)) {
      tx.addIssue({
        code: 'custom',
        path: ['command', 0],
        message: 'the program must be an absolute path without placeholders'
      });
    }
    if (!r.command.some(t => t.includes('{port}'))) {
      tx.addIssue({
        code: 'custom',
        path: ['command'],
        message: 'the command must contain {port} (the provider picks the port)'
      });
    }
  });

export const servingResourcesSchema = z.strictObject({
  cpus: z.number().int().positive(),
  memoryMB: z.number().int().positive(),
  gpus: z.number().int().nonnegative(),
  timeMinutes: z.number().int().positive()
});

/** A catalog model's `maxTokens` and `defaultMaxTokens` when the config sets none. */
export const DEFAULT_MAX_TOKENS = 4096;
export const DEFAULT_DEFAULT_MAX_TOKENS = 512;

/** What a model's replicas get and may ask for, and the gateway's token limits. */
const sizingFields = {
  /** Defaults of one replica. */
  resources: servingResourcesSchema,
  /** Most a user may ask for; default: the defaults. */
  limits: servingResourcesSchema.partial().default({}),
  /** Most completion tokens one gateway request may ask for (`max_tokens`). */
  maxTokens: z.number().int().positive().default(DEFAULT_MAX_TOKENS),
  /** The gateway's `max_tokens` when a request sets none; default: 512 or maxTokens. */
  defaultMaxTokens: z.number().int().positive().optional()
};

type Sizing<T> = T & {
  resources: z.output<typeof servingResourcesSchema>;
  limits: Partial<z.output<typeof servingResourcesSchema>>;
  maxTokens: number;
  defaultMaxTokens?: number | undefined;
};

/** Fills `limits` from the defaults and `defaultMaxTokens` from `maxTokens`. */
function resolveSizing<T>({ limits, defaultMaxTokens, ...m }: Sizing<T>) {
  return {
    ...m,
    defaultMaxTokens:
      defaultMaxTokens ?? Math.min(DEFAULT_DEFAULT_MAX_TOKENS, m.maxTokens),
    limits: {
      cpus: limits.cpus ?? m.resources.cpus,
      memoryMB: limits.memoryMB ?? m.resources.memoryMB,
      gpus: limits.gpus ?? m.resources.gpus,
      timeMinutes: limits.timeMinutes ?? m.resources.timeMinutes
    }
  };
}

function checkSizing(
  m: ReturnType<typeof resolveSizing<object>>,
  tx: z.RefinementCtx
): void {
  if (m.defaultMaxTokens > m.maxTokens) {
    tx.addIssue({
      code: 'custom',
      path: ['defaultMaxTokens'],
      message: `must be at most maxTokens (${m.maxTokens})`
    });
  }
  for (const k of ['cpus', 'memoryMB', 'gpus', 'timeMinutes'] as const) {
    if (m.limits[k] < m.resources[k]) {
      tx.addIssue({
        code: 'custom',
        path: ['limits', k],
        message: `must be at least the default (${m.resources[k]})`
      });
    }
  }
}

/** A model of the serving catalog: what clients pass as `model`. */
export const modelSchema = z
  .strictObject({
    name: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/,
        'letters, digits, ".", "_", ":", "/" and "-" (at most 128)'
      ),
    title: z.string().min(1),
    description: z.string().optional(),
    recipe: nameSchema,
    /** Where the model is: an absolute path on the cluster / the bridge host. */
    path: z
      .string()
      .regex(/^(\/[A-Za-z0-9._+-]+)+\/?$/, 'an absolute path')
      .refine(
        p => p.split('/').every(s => s !== '.' && s !== '..'),
        'no "." or ".." segments'
      ),
    providers: z
      .array(z.enum(['local', 'slurm', 'openstack']))
      .min(1)
      .refine(ps => new Set(ps).size === ps.length, 'duplicate provider'),
    ...sizingFields
  })
  .transform(resolveSizing)
  .superRefine(checkSizing);

/**
 * Models users bring themselves: a file on a tier they can read (a job's output), served
 * with one of `recipes`. Absent: users serve catalog models only.
 */
export const userModelsSchema = z
  .strictObject({
    /** The recipes that take a user's file as `{model}`. */
    recipes: z.array(nameSchema).min(1),
    /** The tier classes a model file may come from. */
    tierClasses: z.array(z.enum(TIER_CLASSES)).min(1),
    /** The largest file accepted (bytes, or a size such as 8GiB). */
    maxBytes: byteSizeSchema,
    /** Where such models run: openstack servers boot from an image and cannot reach tiers. */
    providers: z
      .array(z.enum(['local', 'slurm']))
      .min(1)
      .refine(ps => new Set(ps).size === ps.length, 'duplicate provider')
      .default(['local', 'slurm']),
    ...sizingFields,
    resources: servingResourcesSchema.default({
      cpus: 1,
      memoryMB: 2000,
      gpus: 0,
      timeMinutes: 60
    })
  })
  .transform(resolveSizing)
  .superRefine(checkSizing);

/** A serving provider approved for `sensitive` data (see the data-class policies). */
export const compliantFlag = z.boolean().default(false);

/** Placeholders of the openstack provider's user-data template. */
export const USER_DATA_PLACEHOLDERS = ['command', 'host', 'port'] as const;

export const cloudName = z
  .string()
  .min(1)
  .max(255)
  .refine(v => !/[\0\n\r]/.test(v), 'no NUL or line breaks');

/** A plain string, or a secret reference ({file}, {env}, {value}) for values kept in files. */
export function textOrSecret(secret: ReturnType<typeof secretSchema>) {
  return z.union([cloudName.transform(v => new Secret(v, 'value')), secret]);
}

/**
 * One OpenStack cloud (Keystone v3 + Nova): each replica is a server booted from
 * `image` on `network` whose user-data starts the recipe.
 */
export function openstackSchema(secret: ReturnType<typeof secretSchema>) {
  return z.strictObject({
    title: z.string().min(1).default('Cloud'),
    authUrl: httpUrl(
      'must be the http(s) URL of Keystone, e.g. https://cloud.example.org:5000/v3'
    ),
    region: cloudName.default('RegionOne'),
    /** Exactly one: an application credential (the standard for services) or a password. */
    auth: z
      .strictObject({
        applicationCredential: z
          .strictObject({ id: textOrSecret(secret), secret })
          .optional(),
        password: z
          .strictObject({
            username: textOrSecret(secret),
            password: secret,
            projectName: cloudName,
            userDomainName: cloudName.default('Default'),
            projectDomainName: cloudName.default('Default')
          })
          .optional()
      })
      .superRefine((a, tx) => {
        if (
          (a.applicationCredential === undefined) ===
          (a.password === undefined)
        ) {
          tx.addIssue({
            code: 'custom',
            message: 'needs exactly one of applicationCredential or password'
          });
        }
      })
      .transform(({ applicationCredential, password }) =>
        applicationCredential !== undefined
          ? { applicationCredential }
          : { password: password as NonNullable<typeof password> }
      ),
    /** Image name or id. */
    image: cloudName,
    /** Network name or id; replicas are reached at their fixed IP on it. */
    network: cloudName,
    securityGroups: z.array(cloudName).default([]),
    keyName: cloudName.optional(),
    /** The port the recipe listens on inside the instance ({port}). */
    port: z.number().int().min(1).max(65535).default(8080),
    /** The instance's boot script; {command} is the recipe, shell-quoted. */
    userData: z
      .string()
      .max(60_000)
      .default('#!/bin/sh\nexec {command}\n')
      .superRefine((t, tx) => {
        if (!t.includes('{command}')) {
          tx.addIssue({ code: 'custom', message: 'must contain {command}' });
        }
        for (const m of t.matchAll(PLACEHOLDER)) {
          if (
            !(USER_DATA_PLACEHOLDERS as readonly string[]).includes(m[1] ?? '')
          ) {
            tx.addIssue({
              code: 'custom',
              message: `unknown placeholder ${m[0]} (allowed: {command} {host} {port})`
            });
          }
        }
      }),
    /** The flavor for a replica asking for `gpus` GPUs. */
    flavors: z
      .array(
        z.strictObject({
          gpus: z.number().int().nonnegative(),
          flavor: cloudName
        })
      )
      .min(1, 'at least one {gpus, flavor}')
      .superRefine((fs, tx) => {
        const seen = new Set<number>();
        fs.forEach((f, i) => {
          if (seen.has(f.gpus)) {
            tx.addIssue({
              code: 'custom',
              path: [i, 'gpus'],
              message: `two flavors for ${f.gpus} GPUs`
            });
          }
          seen.add(f.gpus);
        });
      }),
    /** On stop and scale to zero: delete the server, or shelve it (faster wake). */
    onStop: z.enum(['delete', 'shelve']).default('delete'),
    /** A server still building after this long counts as failed. */
    bootMinutes: z.number().positive().max(1440).default(10),
    compliant: compliantFlag
  });
}

/** Model-serving endpoints: gateway, scaling policy, providers. */
export const servingSchema = (secret: ReturnType<typeof secretSchema>) =>
  z.strictObject({
    /** The hub's URL as clients reach it; the gateway URL is publicUrl + basePath + "v1". */
    publicUrl: httpUrl('must be an http(s) URL')
      .transform(u => u.replace(/\/+$/, ''))
      .optional(),
    /** A request to a sleeping or starting endpoint waits at most this long. */
    holdSeconds: z.number().int().positive().max(3600).default(120),
    /** Start the next replica this long before a replica's time limit ends. */
    handoverMinutes: z.number().positive().max(1440).default(5),
    /** Scale to zero after this idle time (minutes). */
    idleMinutes: rangeSchema()
      .refine(r => r.min >= 1, 'min must be at least 1')
      .default({ default: 15, min: 1, max: 1440 }),
    /** Seconds between two health checks of a replica. */
    healthSeconds: z.number().positive().max(300).default(5),
    /** Failed health checks in a row after which a ready replica is replaced. */
    healthFailures: z.number().int().positive().max(100).default(3),
    /** Replicas started by the bridge to replace failed ones before the endpoint fails. */
    maxRestarts: z.number().int().nonnegative().max(100).default(3),
    /** Most minutes a replica may take from start to healthy before it counts as failed. */
    startMinutes: z.number().positive().max(1440).default(15),
    /** An endpoint with a fallback moves a replica there when it is still queued this long. */
    fallbackAfterMinutes: z.number().positive().max(1440).default(5),
    /** Seconds between two reconciliations of the providers' replicas with the store. */
    reconcileSeconds: z.number().int().positive().max(86_400).default(60),
    /** Users' own model files (see `userModelsSchema`); absent: catalog models only. */
    userModels: userModelsSchema.optional(),
    providers: z
      .strictObject({
        /** Child processes on the bridge host (development, small course models). */
        local: z
          .strictObject({
            maxReplicas: z.number().int().positive().max(256).default(4),
            /** Endpoints of one user with a replica here at once (429 beyond). */
            maxReplicasPerUser: z.number().int().positive().max(256).default(2),
            /** The unprivileged Unix account replicas run as (required when the bridge
             *  runs as root; the key is then readable by that account and root only). */
            runAs: z
              .string()
              .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'a Unix user name')
              .refine(n => n !== 'root', 'not root')
              .optional(),
            /** Address-space limit of a replica = its memoryMB + this (prlimit --as). */
            memoryHeadroomMB: z
              .number()
              .int()
              .nonnegative()
              .max(1_048_576)
              .default(1024),
            /** The nice increment replicas run with. */
            nice: z.number().int().min(0).max(19).default(10),
            /** The status file of the machine's model-server build (lines `state=building|
             *  ready|failed`, `since=`, `pid=`, `log=`): while it says building, a replica
             *  whose program is missing waits (pending, with a sentence) instead of failing,
             *  and starts once the program is there. */
            buildStatus: z.string().regex(/^\//, 'an absolute path').optional(),
            /** Where copies of users' model files go (serving.userModels); runAs must be
             *  able to reach it, which the store's own folder (0700) does not allow.
             *  Default: `serving-models` next to the store. */
            modelDir: z.string().regex(/^\//, 'an absolute path').optional(),
            compliant: compliantFlag
          })
          .optional(),
        /** Each replica is a long batch job run as the endpoint's owner. */
        slurm: z
          .strictObject({
            cluster: nameSchema,
            partition: z
              .string()
              .regex(/^[A-Za-z0-9_.-]+$/, 'a partition name'),
            /** Replica working directories, relative to the cluster account's home. */
            root: homeRelativePath.default('.hpc-bridge/endpoints'),
            compliant: compliantFlag
          })
          .optional(),
        /** Each replica is a server on an OpenStack cloud (one cloud per bridge). */
        openstack: openstackSchema(secret).optional()
      })
      .prefault({})
  });
