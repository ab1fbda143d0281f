/**
 * The bridge's YAML configuration: one zod schema, validated once at start.
 * Every problem is reported at once as `FILE: key.path: message`.
 * Secrets are `{env: NAME} | {file: PATH} | {value: "..."}`, resolved at load
 * into `Secret` objects that never print their value.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { inspect } from 'node:util';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { referenceProblems } from './config-references';
import {
  parseOpenSshPublicKey,
  type IPinnedHostKey
} from './adapters/ssh/host-key';

const REDACTED = '[redacted]';

/** A resolved secret. Serialises, prints and inspects as `[redacted]`. */
export class Secret {
  readonly #value: string;

  constructor(
    value: string,
    /** Where it came from, e.g. `env:JUPYTERHUB_API_TOKEN`; safe to log. */
    readonly source: string
  ) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${this.source})`;
  }
}

/** A deep copy of `value` with secrets replaced by `[redacted]`, ready to log. */
export function redact(value: unknown): unknown {
  if (value instanceof Secret) {
    return REDACTED;
  }
  if (Buffer.isBuffer(value)) {
    return `<${value.length} bytes>`;
  }
  if (Array.isArray(value)) {
    return value.map(redact);
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] =
        /token|secret|password|authorization/i.test(k) && typeof v === 'string'
          ? REDACTED
          : redact(v);
    }
    return out;
  }
  return value;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    /** One entry per problem, each `FILE: key.path: message`. */
    readonly problems: string[]
  ) {
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.join('\n')}`
    );
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

interface ILoadContext {
  env: Env;
  /** Relative paths in the file are relative to the file's directory. */
  baseDir: string;
}

const LOG_LEVELS = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent'
] as const;

const nameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,31}$/,
    'must be lowercase letters, digits and "-", starting with a letter'
  );

function secretSchema(ctx: ILoadContext) {
  return z
    .strictObject({
      env: z.string().min(1).optional(),
      file: z.string().min(1).optional(),
      value: z.string().min(1).optional()
    })
    .refine(
      s => [s.env, s.file, s.value].filter(v => v !== undefined).length === 1,
      {
        message: 'a secret needs exactly one of env, file or value'
      }
    )
    .transform((s, tx) => {
      if (s.env !== undefined) {
        const v = ctx.env[s.env];
        if (v === undefined || v === '') {
          tx.addIssue({
            code: 'custom',
            message: `environment variable ${s.env} is not set`
          });
          return z.NEVER;
        }
        return new Secret(v, `env:${s.env}`);
      }
      if (s.file !== undefined) {
        const path = resolve(ctx.baseDir, s.file);
        try {
          const v = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
          if (v === '') {
            tx.addIssue({
              code: 'custom',
              message: `secret file ${path} is empty`
            });
            return z.NEVER;
          }
          return new Secret(v, `file:${path}`);
        } catch (e) {
          tx.addIssue({
            code: 'custom',
            message: `cannot read secret file ${path}: ${errnoText(e)}`
          });
          return z.NEVER;
        }
      }
      return new Secret(s.value ?? '', 'value');
    });
}

function pathSchema(ctx: ILoadContext) {
  return z
    .string()
    .min(1)
    .transform(p => resolve(ctx.baseDir, p));
}

function hostKeySchema(ctx: ILoadContext) {
  return pathSchema(ctx).transform(
    (path, tx): IPinnedHostKey & { file: string } => {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        tx.addIssue({
          code: 'custom',
          message: `cannot read host key file ${path}: ${errnoText(e)}`
        });
        return z.NEVER;
      }
      try {
        return { ...parseOpenSshPublicKey(text), file: path };
      } catch (e) {
        tx.addIssue({
          code: 'custom',
          message: `${path}: ${(e as Error).message}`
        });
        return z.NEVER;
      }
    }
  );
}

/** 64 hex characters = the 32-byte AES-256 key that encrypts users' SSH keys at rest. */
export const SECRET_KEY_ENV = 'HPC_BRIDGE_SECRET_KEY';

function rangeSchema() {
  return z
    .strictObject({
      default: z.number().int().nonnegative(),
      min: z.number().int().nonnegative().optional(),
      max: z.number().int().nonnegative()
    })
    .transform(r => ({ default: r.default, min: r.min ?? 0, max: r.max }))
    .refine(
      r => r.min <= r.default && r.default <= r.max,
      'needs min <= default <= max'
    );
}

const userMappingSchema = z
  .union([
    z.strictObject({
      template: z
        .string()
        .refine(t => t.includes('{user}'), 'a template must contain "{user}"')
    }),
    z.strictObject({ table: z.record(z.string(), z.string()) })
  ])
  .default({ template: '{user}' });

const httpUrl = (message: string) =>
  z.url({ protocol: /^https?$/, error: message });

/** Runs even when items have other problems, so duplicates are reported with them. */
const ALWAYS = { when: () => true };

function uniqueNames(
  items: readonly { name: string }[],
  tx: z.RefinementCtx
): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (typeof item?.name !== 'string') {
      return;
    }
    if (seen.has(item.name)) {
      tx.addIssue({
        code: 'custom',
        path: [i, 'name'],
        message: `duplicate name "${item.name}"`
      });
    }
    seen.add(item.name);
  });
}

const UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
  TIB: 2 ** 40
};

/** Bytes as a number or a string such as `500MB` or `10GiB`. */
export const byteSizeSchema = z
  .union([z.number().int().positive(), z.string()])
  .transform((v, tx) => {
    if (typeof v === 'number') {
      return v;
    }
    const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(v);
    const unit = UNITS[(m?.[2] ?? '').toUpperCase()];
    if (m === null || unit === undefined) {
      tx.addIssue({
        code: 'custom',
        message: 'a size such as 500MB, 10GiB or a number of bytes'
      });
      return z.NEVER;
    }
    return Math.round(Number(m[1]) * unit);
  });

/** Where a tier's files live. */
export type ITierLocation =
  | {
      s3: { store: string; bucket: string; prefix: string };
    }
  | { sftp: { cluster: string; path: string } };

const groupListSchema = z
  .array(z.string().min(1))
  .describe('hub groups; "*" means every user');

const locationTemplate = z
  .string()
  .refine(
    t => !/\{(?!user\}|group\})[^}]*\}/.test(t),
    'only the placeholders {user} and {group} are allowed'
  )
  .refine(
    t => !t.split('/').some(s => s === '..' || s === '.'),
    'no "." or ".." segments'
  );

/**
 * A storage tier: exactly one of `s3` (bucket + prefix template) or `sftp` (a path
 * template on a cluster, accessed as the user). `{user}` is the hub user (for sftp: the
 * cluster account); `{group}` makes one root per listed group the user is in.
 */
const tierSchema = z
  .strictObject({
    name: nameSchema,
    title: z.string().min(1),
    description: z.string().optional(),
    class: z.enum(['scratch', 'project', 'archive', 'public', 'sensitive']),
    s3: z
      .strictObject({
        store: nameSchema,
        bucket: z
          .string()
          .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name'),
        prefix: locationTemplate
          .refine(
            p => p === '' || (p.endsWith('/') && !p.startsWith('/')),
            'empty, or a relative prefix ending in "/"'
          )
          .default('{user}/')
      })
      .optional(),
    sftp: z
      .strictObject({
        cluster: nameSchema,
        path: locationTemplate.refine(
          p => p.startsWith('/') && !/[\0\\]/.test(p),
          'an absolute path'
        )
      })
      .optional(),
    read: groupListSchema.default(['*']),
    write: groupListSchema.default(['*']),
    quota: byteSizeSchema.optional(),
    retention: z.string().optional()
  })
  .superRefine((t, tx) => {
    if ((t.s3 === undefined) === (t.sftp === undefined)) {
      tx.addIssue({
        code: 'custom',
        message: 'a tier needs exactly one of s3 or sftp'
      });
    }
    const template = t.s3?.prefix ?? t.sftp?.path ?? '';
    if (template.includes('{group}') && [...t.read, ...t.write].includes('*')) {
      tx.addIssue({
        code: 'custom',
        path: ['read'],
        message:
          'a {group} location needs the groups listed in read/write, not "*"'
      });
    }
    if (
      t.sftp !== undefined &&
      !template.includes('{user}') &&
      !template.includes('{group}')
    ) {
      tx.addIssue({
        code: 'custom',
        path: ['sftp', 'path'],
        message: 'an sftp path needs {user} or {group}'
      });
    }
  })
  .transform(({ s3, sftp, ...t }) => {
    const location: ITierLocation =
      s3 !== undefined
        ? { s3 }
        : { sftp: sftp as { cluster: string; path: string } };
    return { ...t, location };
  });

/** Placeholders a serving recipe may use, each inside one argv token. */
export const RECIPE_PLACEHOLDERS = [
  'model',
  'host',
  'port',
  'threads'
] as const;

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * A serving recipe: the model server's argv (never a shell string), with placeholders
 * inside tokens, the path it answers health checks on, and the environment variable it
 * reads its API key from (a key in the argv would be visible to every local user).
 */
const recipeSchema = z
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

const servingResourcesSchema = z.strictObject({
  cpus: z.number().int().positive(),
  memoryMB: z.number().int().positive(),
  gpus: z.number().int().nonnegative(),
  timeMinutes: z.number().int().positive()
});

/** A catalog model's `maxTokens` and `defaultMaxTokens` when the config sets none. */
export const DEFAULT_MAX_TOKENS = 4096;
export const DEFAULT_DEFAULT_MAX_TOKENS = 512;

/** A model of the serving catalog: what clients pass as `model`. */
const modelSchema = z
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
    /** Defaults of one replica. */
    resources: servingResourcesSchema,
    /** Most a user may ask for; default: the defaults. */
    limits: servingResourcesSchema.partial().default({}),
    providers: z
      .array(z.enum(['local', 'slurm', 'openstack']))
      .min(1)
      .refine(ps => new Set(ps).size === ps.length, 'duplicate provider'),
    /** Most completion tokens one gateway request may ask for (`max_tokens`). */
    maxTokens: z.number().int().positive().default(DEFAULT_MAX_TOKENS),
    /** The gateway's `max_tokens` when a request sets none; default: 512 or maxTokens. */
    defaultMaxTokens: z.number().int().positive().optional()
  })
  .transform(({ limits, defaultMaxTokens, ...m }) => ({
    ...m,
    defaultMaxTokens:
      defaultMaxTokens ?? Math.min(DEFAULT_DEFAULT_MAX_TOKENS, m.maxTokens),
    limits: {
      cpus: limits.cpus ?? m.resources.cpus,
      memoryMB: limits.memoryMB ?? m.resources.memoryMB,
      gpus: limits.gpus ?? m.resources.gpus,
      timeMinutes: limits.timeMinutes ?? m.resources.timeMinutes
    }
  }))
  .superRefine((m, tx) => {
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
  });

/** A serving provider approved for `sensitive` data (see the data-class policies). */
const compliantFlag = z.boolean().default(false);

/** Placeholders of the openstack provider's user-data template. */
export const USER_DATA_PLACEHOLDERS = ['command', 'host', 'port'] as const;

const cloudName = z
  .string()
  .min(1)
  .max(255)
  .refine(v => !/[\0\n\r]/.test(v), 'no NUL or line breaks');

/** A plain string, or a secret reference ({file}, {env}, {value}) for values kept in files. */
function textOrSecret(secret: ReturnType<typeof secretSchema>) {
  return z.union([cloudName.transform(v => new Secret(v, 'value')), secret]);
}

/**
 * One OpenStack cloud (Keystone v3 + Nova): each replica is a server booted from
 * `image` on `network` whose user-data starts the recipe.
 */
function openstackSchema(secret: ReturnType<typeof secretSchema>) {
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
const servingSchema = (secret: ReturnType<typeof secretSchema>) =>
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
            root: z
              .string()
              .regex(
                /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/,
                'a relative path of letters, digits, ".", "_", "-"'
              )
              .refine(
                p => p.split('/').every(s => s !== '..' && s !== '.'),
                'no "." or ".." segments'
              )
              .default('.hpc-bridge/endpoints'),
            compliant: compliantFlag
          })
          .optional(),
        /** Each replica is a server on an OpenStack cloud (one cloud per bridge). */
        openstack: openstackSchema(secret).optional()
      })
      .prefault({})
  });

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
      store: z.strictObject({
        path: z.literal(':memory:').or(pathSchema(ctx))
      }),
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
              idleCloseMs: z.number().int().positive().default(60_000)
            }),
            /** Hub user name → cluster account: `{template: "{user}"}` (default) or a `table`. */
            userMapping: userMappingSchema,
            jobs: z
              .strictObject({
                /** Job working directories, relative to the cluster account's home. */
                root: z
                  .string()
                  .regex(
                    /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/,
                    'a relative path of letters, digits, ".", "_", "-"'
                  )
                  .refine(
                    p => p.split('/').every(s => s !== '..' && s !== '.'),
                    'no "." or ".." segments'
                  )
                  .default('.hpc-bridge/jobs'),
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

function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT'
    ? 'no such file'
    : code === 'EACCES'
      ? 'permission denied'
      : (e as Error).message;
}

/** `['clusters', 0, 'ssh']` → `clusters[0].ssh`. */
export function keyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') {
      out += `[${p}]`;
    } else {
      out += out === '' ? String(p) : `.${String(p)}`;
    }
  }
  return out === '' ? '(top level)' : out;
}

/** Turns zod issues into `FILE: key.path: message` lines, one per problem. */
export function formatIssues(
  file: string,
  issues: readonly z.core.$ZodIssue[]
): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        lines.push(`${file}: ${keyPath([...issue.path, key])}: unknown key`);
      }
    } else if (
      issue.code === 'invalid_type' &&
      /received undefined/.test(issue.message)
    ) {
      lines.push(
        `${file}: ${keyPath(issue.path)}: required (${issue.expected})`
      );
    } else {
      lines.push(`${file}: ${keyPath(issue.path)}: ${issue.message}`);
    }
  }
  return lines;
}

/**
 * One schema for every parse: building it costs more than a parse. Its transforms read the
 * env and base directory of the parse under way through this context; parsing is
 * synchronous, so no other parse can run in between.
 */
let parsing: ILoadContext = { env: {}, baseDir: '/' };
const parseContext: ILoadContext = {
  get env() {
    return parsing.env;
  },
  get baseDir() {
    return parsing.baseDir;
  }
};
let schema: ReturnType<typeof configSchema> | undefined;

/** Validates an already parsed config object; throws `ConfigError` with every problem. */
export function parseConfig(
  raw: unknown,
  file: string,
  env: Env = process.env
): BridgeConfig {
  schema ??= configSchema(parseContext);
  parsing = { env, baseDir: dirname(resolve(file)) };
  const result = schema.safeParse(raw ?? {});
  if (!result.success) {
    throw new ConfigError(file, formatIssues(file, result.error.issues));
  }
  return result.data;
}

/** Reads, parses and validates a YAML config file. */
export function loadConfig(file: string, env: Env = process.env): BridgeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [`${file}: cannot read: ${errnoText(e)}`]);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map(
        e =>
          `${file}: line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`
      )
    );
  }
  return parseConfig(doc.toJS(), file, env);
}
