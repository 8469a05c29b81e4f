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
  /** Its viewer's and editor's kubeconfigs. */
  viewer: string;
  editor: string;
  /** An admin client of it. */
  api: KubernetesObjectApi;
}

/**
 * Registers the beforeAll/afterAll (of the describe, or of the file when called at the top) that start
 * and stop a private sandbox in a temporary directory: with KubeVirt unless `kubevirt: false`. Hooks
 * registered after this call run once it is up.
 */
export function usePrivateSandbox(prefix: string, opts: { kubevirt?: boolean; simulatorArgs?: string[] } = {}): PrivateSandbox {
  let dir = '';
  const sb = { kubeconfig: '', viewer: '', editor: '', api: undefined } as unknown as PrivateSandbox;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    const started = await up({ dir, kubevirt: opts.kubevirt ?? true, simulatorArgs: opts.simulatorArgs ?? [] });
    Object.assign(sb, { kubeconfig: started.kubeconfig, viewer: started.viewer, editor: started.editor });
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
