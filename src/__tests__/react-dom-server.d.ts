// react-dom ships no types and @types/react-dom is not installed: the one
// function the render tests use.
declare module 'react-dom/server' {
  import type { ReactElement } from 'react';
  export function renderToStaticMarkup(element: ReactElement): string;
}
