/**
 * `npm run test:reliability`: real app processes (dist/, built first by the npm script) against
 * PostgreSQL servers the suite starts and stops itself. One file at a time.
 * @type {import('jest').Config}
 */
const { transform, transformIgnorePatterns } = require('./jest.config.js').projects[1];

module.exports = {
  displayName: 'reliability',
  testEnvironment: 'node',
  rootDir: __dirname,
  testMatch: ['<rootDir>/test/reliability/**/*.rel-spec.ts'],
  transform,
  transformIgnorePatterns,
  setupFiles: ['reflect-metadata'],
  globalSetup: '<rootDir>/test/reliability/global-setup.ts',
  globalTeardown: '<rootDir>/test/reliability/global-teardown.ts',
  maxWorkers: 1,
  verbose: true,
  testTimeout: 120_000,
};
