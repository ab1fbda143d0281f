import { execFileSync } from 'node:child_process';
import { commandLine, shellQuote } from '../../src/shell-quote';

/** Runs `sh -c LINE` locally with a helper that prints each argv word NUL-separated. */
function wordsAfterShell(line: string): string[] {
  const out = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${line}`], {
    encoding: 'utf8'
  });
  return out.split('\0').slice(0, -1);
}

const NASTY = [
  '',
  ' ',
  'plain',
  'with space',
  "it's",
  "''",
  "'\\''",
  '$(touch /tmp/pwned)',
  '`id`',
  '$HOME',
  '${IFS}',
  'a;b',
  'a&&b',
  'a|b',
  'a>b',
  '<in',
  'new\nline',
  'tab\there',
  '\r',
  '*',
  '?',
  '[a-z]',
  '~',
  '~root',
  '#comment',
  '!',
  '\\',
  '"double"',
  'FOO=bar',
  '-n',
  '--flag=value',
  'ünïcödé ✓',
  '%s%n',
  "'; rm -rf / #"
];

describe('shellQuote', () => {
  it.each(NASTY.map(s => [JSON.stringify(s), s]))(
    'round-trips %s through a POSIX shell',
    (_label, arg) => {
      expect(wordsAfterShell(shellQuote(arg))).toEqual([arg]);
    }
  );

  it('keeps a whole argv word for word', () => {
    expect(wordsAfterShell(commandLine(NASTY))).toEqual(NASTY);
  });

  it('leaves safe words bare and quotes everything else', () => {
    expect(shellQuote('sinfo')).toBe('sinfo');
    expect(shellQuote('--json')).toBe('--json');
    expect(shellQuote('/home/alice/job.ipynb')).toBe('/home/alice/job.ipynb');
    expect(shellQuote('FOO=bar')).toBe("'FOO=bar'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('')).toBe("''");
  });

  it('rejects NUL bytes and empty commands', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
    expect(() => commandLine(['echo', 'x\0'])).toThrow(/NUL/);
    expect(() => commandLine([])).toThrow(/empty/);
  });

  it('survives random strings of shell metacharacters', () => {
    const alphabet = ` '"\\$\`;&|<>(){}[]*?~#!\n\t=-a1é`;
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const words = Array.from({ length: 200 }, () =>
      Array.from(
        { length: rand(12) },
        () => alphabet[rand(alphabet.length)]
      ).join('')
    );
    expect(wordsAfterShell(commandLine(words))).toEqual(words);
  });
});
