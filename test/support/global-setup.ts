// Starts one sandbox (real kube-apiserver + etcd) and the KubeVirt network
// simulator for the whole integration run; tests isolate by namespace.
import path from 'node:path';
import type { TestProject } from 'vitest/node';
// @ts-expect-error plain ESM script without types
import { down, ensureKubectl, up } from '../../scripts/sandbox-lib.mjs';

export default async function setup(project: TestProject) {
  const dir = path.resolve(process.env.VNET_TEST_SANDBOX_DIR ?? '.cache/test-sandbox');
  const external = Boolean(process.env.VNET_TEST_KEEP_SANDBOX);
  // The run's own sandbox begins empty, so no run sees what an earlier one left: one still running from an
  // interrupted run is stopped first. With VNET_TEST_KEEP_SANDBOX a running sandbox is used as it is.
  if (!external) await down({ dir });
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
