// Starts one sandbox (real kube-apiserver + etcd) and the KubeVirt network
// simulator for the whole integration run; tests isolate by namespace.
import path from 'node:path';
import type { TestProject } from 'vitest/node';
// @ts-expect-error plain ESM script without types
import { down, ensureKubectl, up } from '../../scripts/sandbox-lib.mjs';

export default async function setup(project: TestProject) {
  const dir = path.resolve(process.env.VNET_TEST_SANDBOX_DIR ?? '.cache/test-sandbox');
  const external = Boolean(process.env.VNET_TEST_KEEP_SANDBOX);
  // A sandbox this run starts begins empty, so no run sees what an earlier one left (a running one is reused as it is).
  const sb = await up({ dir, simulate: true, simulatorArgs: ['--step-ms', '300'], fresh: !external });
  project.provide('sandbox', { dir: sb.dir, kubeconfig: sb.kubeconfig, viewer: sb.viewer, editor: sb.editor, kubectl: ensureKubectl() });
  return async () => {
    if (!external) await down({ dir });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    sandbox: { dir: string; kubeconfig: string; viewer: string; editor: string; kubectl: string };
  }
}
