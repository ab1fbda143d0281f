/**
 * The lab loads the extension's styles from `style/index.js` (package.json `styleModule`),
 * `style/index.css` is what other tools read: both must import every stylesheet.
 */
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';

const STYLE = join(__dirname, '..', '..', 'style');

const imported = (file: string, pattern: RegExp): string[] =>
  [...readFileSync(join(STYLE, file), 'utf8').matchAll(pattern)]
    .map(m => m[1] ?? '')
    .sort();

describe('style entry points', () => {
  it('import every stylesheet of style/, in index.js as in index.css', () => {
    const sheets = readdirSync(STYLE)
      .filter(f => f.endsWith('.css') && f !== 'index.css')
      .map(f => `./${f}`)
      .sort();
    expect(imported('index.js', /^import '([^']+)';$/gm)).toEqual(sheets);
    expect(
      imported('index.css', /^@import url\('([^']+)'\);$/gm).map(f => `./${f}`)
    ).toEqual(sheets);
  });
});
