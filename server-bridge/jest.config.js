/**
 * Unit tests of the bridge alone: `npx jest -c server-bridge/jest.config.js`
 * (the root jest.config.js runs the same files as project `unit`).
 */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  roots: ['<rootDir>/test/unit', '<rootDir>/src'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
    '/node_modules/cookie/.+\\.js$': '<rootDir>/test/esm-transform.js'
  },
  transformIgnorePatterns: ['/node_modules/(?!cookie/)']
};
