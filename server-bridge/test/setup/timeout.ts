// A project's own testTimeout is not applied under jest's projects: each names its
// timeout in `globals.testTimeoutMs` and this applies it.
const { testTimeoutMs } = globalThis as { testTimeoutMs?: unknown };
if (typeof testTimeoutMs !== 'number') {
  throw new Error('jest.config.js: this project sets no globals.testTimeoutMs');
}
jest.setTimeout(testTimeoutMs);
