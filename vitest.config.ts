import { defineConfig } from 'vitest/config';

/** The release's tests that need the network (the signer's test downloads Node for macOS from the npm registry). */
const RELEASE_TESTS = ['test/unit/manifest-signing.test.ts'];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Unit tests never touch the network: the release tests that do have their own project.
          exclude: RELEASE_TESTS,
          // The seeded property tests (simple-yaml, offline-manifest) take 2 to 5 s alone and more on
          // cores shared with a build; vitest's 5 s default made them fail for load, not for a fault.
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'release',
          include: RELEASE_TESTS,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/cli/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          // Generous: a private sandbox can take a minute to start on two loaded cores, and up() itself
          // waits 240 s before it reports the sandbox log; a hook must outlast that to show it.
          testTimeout: 60_000,
          hookTimeout: 300_000,
          // Two cores: keep files in parallel, but not more workers than cores.
          maxWorkers: 2,
        },
      },
    ],
  },
});
