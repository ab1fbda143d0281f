/**
 * The one place where remote shell command lines are built. Everything sent to a
 * login node goes through `shellQuote`/`commandLine`; review changes here carefully.
 */

/** Quotes one argument for a POSIX shell: single quotes, with `'` written as `'\''`. */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) {
    throw new Error('argument contains a NUL byte');
  }
  if (/^[A-Za-z0-9_@%+:,./-]+$/.test(arg)) {
    return arg;
  }
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Joins an argv into a command line whose words are exactly `argv` for `sh -c`. */
export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0) {
    throw new Error('empty command');
  }
  return argv.map(shellQuote).join(' ');
}
