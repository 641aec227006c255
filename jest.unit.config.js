/**
 * The unit layer alone: no server is started, so it runs in seconds. A unit test that reaches for a
 * server fails here (the servers' addresses are not set).
 */
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['<rootDir>/__tests__/unit/**/*.test.ts'],
  globalSetup: undefined,
  globalTeardown: undefined,
};
