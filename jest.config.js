/**
 * Jest projects: `unit` (no network: bridge domain logic, contract, frontend
 * models) and `integration` (the real stack started by ./stack/up).
 */
const tsJest = tsconfig => ({
  '^.+\\.tsx?$': ['ts-jest', { tsconfig, isolatedModules: true }]
});

module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/server-bridge/test/unit'],
      testMatch: ['**/*.test.ts'],
      transform: tsJest('<rootDir>/server-bridge/tsconfig.json')
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/server-bridge/test/integration'],
      testMatch: ['**/*.test.ts'],
      transform: tsJest('<rootDir>/server-bridge/tsconfig.json'),
      testTimeout: 60000
    }
  ]
};
