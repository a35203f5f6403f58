/** Jest in ESM mode (NestJS 12 ships ES modules only). */
export default {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: '.',
  roots: ['<rootDir>/src', '<rootDir>/test', '<rootDir>/examples'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 60000,
  // The total of answers checked against the OpenAPI document, and the service's log lines
  // kept out of the output (test/support/run-reporter.js).
  reporters: ['default', '<rootDir>/test/support/run-reporter.js'],
};
