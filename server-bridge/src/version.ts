import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** The bridge's version, from server-bridge/package.json (one level above src/ and lib/). */
export const BRIDGE_VERSION: string = z
  .object({ version: z.string() })
  .parse(
    JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'))
  ).version;
