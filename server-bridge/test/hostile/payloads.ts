/**
 * Hostile values: shell metacharacters that would touch a canary file if any layer ran
 * them, path traversal in its encodings, and strings that break naive parsers.
 */
import { existsSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

/** A unique file under /tmp that no payload of this run may create. */
export function canaryPath(label: string): string {
  return `/tmp/hpcb-canary-${label}-${randomBytes(6).toString('hex')}`;
}

/** The classic ways to smuggle `touch CANARY` into a shell, a Python literal or sbatch. */
export function shellPayloads(canary: string): string[] {
  return [
    `$(touch ${canary})`,
    `\`touch ${canary}\``,
    `;touch ${canary}`,
    `|touch ${canary}`,
    `\ntouch ${canary}`,
    `'"; touch ${canary} #`,
    `&& touch ${canary}`,
    `x\r\ntouch ${canary}`,
    `$'\\x3btouch' ${canary}`,
    `-oProxyCommand=touch ${canary}`,
    `--wrap=touch ${canary}`,
    `"; import os; os.system('touch ${canary}'); "`,
    `\\"); __import__('os').system('touch ${canary}') #`
  ];
}

/** Payloads that fit a word without spaces (names, segments). */
export function compactShellPayloads(canary: string): string[] {
  return [
    `$(touch\${IFS}${canary})`,
    `\`touch\${IFS}${canary}\``,
    `;touch\${IFS}${canary}`,
    `|touch\${IFS}${canary}`,
    `x;touch\${IFS}${canary};`
  ];
}

/** Traversal in the forms a path may reach the bridge (decoded strings, not URL text). */
export const TRAVERSAL_STRINGS: readonly string[] = [
  '..',
  '../',
  '../..',
  '../../../../etc/passwd',
  'a/../../b',
  'a/./b',
  './a',
  '/etc/passwd',
  '//etc/passwd',
  '/',
  'a//b',
  '..\\..\\etc\\passwd',
  'a\\b',
  'a\0b',
  '\0',
  '..%2f..%2fetc%2fpasswd',
  '%2e%2e/%2e%2e/etc/passwd',
  '\u002e\u002e/x',
  'a/\n/b',
  '~/.ssh/id_ed25519',
  '~bob/.ssh'
];

/**
 * Traversal as URL text (query values or path segments written raw): percent-encoded
 * dots and slashes, double encoding, overlong UTF-8, NUL, backslashes.
 */
export const TRAVERSAL_URL_TEXT: readonly string[] = [
  '..',
  '%2e%2e',
  '%2E%2E',
  '.%2e',
  '..%2f',
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '..%5c..%5cetc%5cpasswd',
  '%252e%252e%252f',
  '%c0%ae%c0%ae/',
  '%c0%ae%c0%ae%c0%af',
  '%e0%80%ae%e0%80%ae/',
  '%2fetc%2fpasswd',
  '%00',
  'a%00b',
  '..%00/',
  '%5c..%5c',
  '....//....//',
  '%u002e%u002e'
];

/** Strings that trip parsers and type checks; no canary needed. */
export const ODD_STRINGS: readonly string[] = [
  '',
  ' ',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  '\ud800',
  '\udfff\ud800',
  '\u202eevil',
  '\ufeff',
  '😀'.repeat(50),
  'é\u0301',
  '．．／．．／',
  '\u2215etc\u2215passwd',
  '\r\nX-Injected: 1',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '"; DROP TABLE jobs; --',
  '{{7*7}}',
  '${7*7}',
  '%s%s%s%n',
  'NaN',
  '-1',
  '1e309',
  '0x10',
  'null',
  'true',
  '[]',
  '{}',
  '*',
  '?',
  '-rf',
  '--help',
  'A'.repeat(5000)
];

/** Canary files of this run that exist; empty when no payload ran. */
export function canariesFound(prefix = '/tmp/hpcb-canary-'): string[] {
  const dir = prefix.slice(0, prefix.lastIndexOf('/') + 1);
  const start = prefix.slice(dir.length);
  return readdirSync(dir)
    .filter(name => name.startsWith(start))
    .map(name => dir + name)
    .filter(p => existsSync(p));
}
