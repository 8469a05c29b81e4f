// A sandbox of the test's own, for tests that change cluster-wide objects (the KubeVirt CR's feature
// gates, admission policies): started before the describe's tests, stopped and removed after them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KubernetesObjectApi } from '@kubernetes/client-node';
import { afterAll, beforeAll } from 'vitest';
// @ts-expect-error plain ESM script without types
import { down, up } from '../../scripts/sandbox-lib.mjs';
import { adminApi } from './cluster.js';

export interface PrivateSandbox {
  /** Its admin kubeconfig (set once beforeAll ran). */
  kubeconfig: string;
  /** An admin client of it. */
  api: KubernetesObjectApi;
}

/** Registers the describe's beforeAll/afterAll that start and stop a private sandbox in a temporary directory. */
export function usePrivateSandbox(prefix: string): PrivateSandbox {
  let dir = '';
  const sb = { kubeconfig: '', api: undefined } as unknown as PrivateSandbox;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    sb.kubeconfig = (await up({ dir })).kubeconfig;
    sb.api = adminApi(sb.kubeconfig);
  }, 240_000);
  afterAll(async () => {
    if (dir) {
      await down({ dir });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  return sb;
}
