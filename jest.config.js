/** @type {import('jest').Config} */
const project = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
};

module.exports = {
  testTimeout: 20000,
  // Nest's decorators are the legacy kind: test/nest is compiled with tsconfig.nest.json, in a
  // project of its own (ts-jest keeps one compiler per project), and the rest with tsconfig.json.
  projects: [
    { ...project, testPathIgnorePatterns: ['/node_modules/', '/test/nest/'] },
    {
      ...project,
      displayName: 'nest',
      roots: ['<rootDir>/test/nest'],
      transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false, tsconfig: 'tsconfig.nest.json' }] },
    },
  ],
};
