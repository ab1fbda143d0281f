/**
 * Jest projects: `unit` (no network: bridge domain logic, contract, frontend
 * models), `integration` and `integration-storage` (the real stack started by
 * ./stack/up) and `openstack`
 * (the same stack with its OpenStack cloud: ./stack/up --with-openstack) and `faults`
 * (stops and kills components of the stack: server-bridge/test/faults) and `postgres`
 * (the store on PostgreSQL: HPCB_TEST_PG_URL) and `replicas` (two bridges on PostgreSQL
 * behind HAProxy: ./stack/up --with-postgres --replicas 2).
 */
const bridgeTransform = {
  '^.+\\.tsx?$': [
    'ts-jest',
    { tsconfig: '<rootDir>/server-bridge/tsconfig.json' }
  ],
  // cookie@2 (light-my-request, behind app.inject) is ESM only.
  '/node_modules/cookie/.+\\.js$':
    '<rootDir>/server-bridge/test/esm-transform.js'
};
const transformIgnorePatterns = ['/node_modules/(?!cookie/)'];

module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/server-bridge/test/unit'],
      testMatch: ['**/*.test.ts'],
      transform: bridgeTransform,
      transformIgnorePatterns
    },
    {
      displayName: 'unit',
      roots: ['<rootDir>/src'],
      testMatch: ['**/__tests__/**/*.spec.ts?(x)'],
      transform: {
        '^.+\\.tsx?$': [
          'ts-jest',
          { tsconfig: '<rootDir>/tsconfig.test.json' }
        ],
        // @noble/hashes (upload checksums) is ESM only.
        '/node_modules/@noble/.+\\.js$':
          '<rootDir>/server-bridge/test/esm-transform.js'
      },
      transformIgnorePatterns: ['/node_modules/(?!@noble/)'],
      // The frontend tests read the contract from source: no bridge build needed.
      moduleNameMapper: {
        '^@hpc-bridge/server/contract$':
          '<rootDir>/server-bridge/src/contract/index.ts'
      }
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/server-bridge/test/integration'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: [
        '/openstack[^/]*\\.test\\.ts$',
        '/storage[^/]*\\.test\\.ts$'
      ],
      transform: bridgeTransform,
      transformIgnorePatterns,
      globals: { testTimeoutMs: 60_000 },
      setupFilesAfterEnv: ['<rootDir>/server-bridge/test/setup/timeout.ts']
    },
    {
      // The storage tiers' tests (S3 and SFTP transfers): npm test runs them beside the
      // other integration tests, which use SLURM, the gateway and the hub.
      displayName: 'integration-storage',
      testEnvironment: 'node',
      roots: ['<rootDir>/server-bridge/test/integration'],
      testMatch: ['**/storage*.test.ts'],
      transform: bridgeTransform,
      transformIgnorePatterns,
      globals: { testTimeoutMs: 60_000 },
      setupFilesAfterEnv: ['<rootDir>/server-bridge/test/setup/timeout.ts']
    },
    {
      displayName: 'hostile',
      testEnvironment: 'node',
      roots: ['<rootDir>/server-bridge/test/hostile'],
      testMatch: ['**/*.test.ts'],
      transform: bridgeTransform,
      transformIgnorePatterns,
      globals: { testTimeoutMs: 120_000 },
      setupFilesAfterEnv: ['<rootDir>/server-bridge/test/setup/timeout.ts']
    },
    {
      displayName: 'openstack',
      testEnvironment: 'node',
      roots: ['<rootDir>/server-bridge/test/integration'],
      testMatch: ['**/openstack*.test.ts'],
      transform: bridgeTransform,
      transformIgnorePatterns,
      globals: { testTimeoutMs: 120_000 },
      setupFilesAfterEnv: ['<rootDir>/server-bridge/test/setup/timeout.ts']
    },
    {
      // The store on PostgreSQL: HPCB_TEST_PG_URL names a database (docs/postgres.md).
      displayName: 'postgres',
      testEnvironment: 'node',
      roots: ['<rootDir>/server-bridge/test/postgres'],
      testMatch: ['**/*.test.ts'],
      transform: bridgeTransform,
      transformIgnorePatterns
    },
    {
      // The production shape (./stack/up --with-postgres --replicas 2): kills a replica.
      displayName: 'replicas',
      testEnvironment: 'node',
      roots: ['<rootDir>/server-bridge/test/replicas'],
      testMatch: ['**/*.test.ts'],
      transform: bridgeTransform,
      transformIgnorePatterns,
      globals: { testTimeoutMs: 600_000 },
      setupFilesAfterEnv: ['<rootDir>/server-bridge/test/setup/timeout.ts']
    },
    {
      displayName: 'faults',
      testEnvironment: 'node',
      roots: ['<rootDir>/server-bridge/test/faults'],
      testMatch: ['**/*.test.ts'],
      transform: bridgeTransform,
      transformIgnorePatterns,
      globals: { testTimeoutMs: 600_000 },
      setupFilesAfterEnv: ['<rootDir>/server-bridge/test/setup/timeout.ts']
    }
  ]
};
