/** The config's building blocks: names, secrets, paths, host keys, ranges, sizes. */
import { readFileSync } from 'node:fs';
import {
  parseOpenSshPublicKey,
  type IPinnedHostKey
} from '../adapters/ssh/host-key';
import { resolve } from 'node:path';
import { z } from 'zod';
import { Secret } from './secret';

export type Env = Record<string, string | undefined>;

export interface ILoadContext {
  env: Env;
  /** Relative paths in the file are relative to the file's directory. */
  baseDir: string;
}

export const nameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,31}$/,
    'must be lowercase letters, digits and "-", starting with a letter'
  );

/** A path below the cluster account's home: relative, without "." or ".." segments. */
export const homeRelativePath = z
  .string()
  .regex(
    /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/,
    'a relative path of letters, digits, ".", "_", "-"'
  )
  .refine(
    p => p.split('/').every(s => s !== '..' && s !== '.'),
    'no "." or ".." segments'
  );

export function secretSchema(ctx: ILoadContext) {
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

export function pathSchema(ctx: ILoadContext) {
  return z
    .string()
    .min(1)
    .transform(p => resolve(ctx.baseDir, p));
}

export function hostKeySchema(ctx: ILoadContext) {
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

export function rangeSchema() {
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

export const userMappingSchema = z
  .union([
    z.strictObject({
      template: z
        .string()
        .refine(t => t.includes('{user}'), 'a template must contain "{user}"')
    }),
    z.strictObject({ table: z.record(z.string(), z.string()) })
  ])
  .default({ template: '{user}' });

export const httpUrl = (message: string) =>
  z.url({ protocol: /^https?$/, error: message });

/** Runs even when items have other problems, so duplicates are reported with them. */
export const ALWAYS = { when: () => true };

export function uniqueNames(
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

export const UNITS: Record<string, number> = {
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

export function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT'
    ? 'no such file'
    : code === 'EACCES'
      ? 'permission denied'
      : (e as Error).message;
}
