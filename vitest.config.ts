import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/cli/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          // Generous: a private sandbox can take a minute to start on two loaded cores, and up() itself
          // waits 120 s before it reports the sandbox log; a hook must outlast that to show it.
          testTimeout: 60_000,
          hookTimeout: 180_000,
          // Two cores: keep files in parallel, but not more workers than cores.
          maxWorkers: 2,
        },
      },
    ],
  },
});
