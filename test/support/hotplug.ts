// Helpers for the hotplug and link integration tests: NADs, VMs, and waiting
// for virt-handler (the node simulator's) to report interfaces.
import { PatchStrategy } from '@kubernetes/client-node';
import { expect } from 'vitest';
import { adminApi, create, eventually, readVMI } from './cluster.js';

export function bridgeNad(namespace: string, name = 'blue-net', config: unknown = { cniVersion: '0.3.1', type: 'bridge', bridge: 'br1' }, kubeconfig?: string) {
  return create({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name, namespace }, spec: { config: JSON.stringify(config) } } as never, kubeconfig);
}

/** A VM with an explicit pod network (or none at all: the implicit default). */
export function makeVM(namespace: string, name: string, opts: { running?: boolean; bare?: boolean; extra?: { name: string; nad: string }[]; kubeconfig?: string } = {}) {
  const ifaces: unknown[] = opts.bare ? [] : [{ name: 'default', masquerade: {} }];
  const nets: unknown[] = opts.bare ? [] : [{ name: 'default', pod: {} }];
  for (const e of opts.extra ?? []) {
    ifaces.push({ name: e.name, bridge: {} });
    nets.push({ name: e.name, multus: { networkName: e.nad } });
  }
  const spec: Record<string, unknown> = { domain: { devices: opts.bare ? {} : { interfaces: ifaces }, resources: { requests: { memory: '1Gi' } } } };
  if (!opts.bare) spec.networks = nets;
  return create({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name, namespace },
    spec: { runStrategy: opts.running === false ? 'Halted' : 'Always', template: { spec } },
  } as never, opts.kubeconfig);
}

/** The VMI status entry of an interface, once virt-handler (the node simulator's) reports it in the domain. */
export function inDomain(vmi: any, name: string): any {
  return (vmi?.status?.interfaces ?? []).find((s: any) => s.name === name && String(s.infoSource ?? '').includes('domain'));
}

export async function runningWith(namespace: string, name: string, ifaces: string[], kubeconfig?: string) {
  return eventually(async () => {
    const vmi = await readVMI(namespace, name, kubeconfig);
    return vmi.status?.phase === 'Running' && ifaces.every((i) => inDomain(vmi, i)) ? vmi : undefined;
  }, 60_000, `VMI ${name} running with ${ifaces.join(', ')}`);
}

export async function setRunStrategy(namespace: string, name: string, runStrategy: string) {
  await adminApi().patch({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name, namespace }, spec: { runStrategy } } as never, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
}

export const names = (list: { name: string }[] | undefined) => (list ?? []).map((x) => x.name);


/**
 * The VM's spec was not written: same generation (bumped by every spec
 * change, not by status updates) and the same spec.
 */
export function expectSpecUnchanged(before: any, after: any): void {
  expect(after.metadata.generation).toBe(before.metadata.generation);
  expect(after.spec).toEqual(before.spec);
}

const IGNORE = 'sim.kubectl-vnet.io/ignore';

/**
 * Pauses (or resumes) the node side of the simulator (kubelet, Multus, virt-handler) for one VM and its VMI:
 * no pod start, no Multus attach or detach, no domain, guest agent or link changes. KubeVirt's own
 * virt-controller still acts (it copies a hot-plugged interface into the VMI spec and the pod's networks
 * annotation, removes unplugged ones once nothing reports them...). The VMI is annotated as well as the VM:
 * the simulator sees a VMI's annotation in the same watch as the VMI changes that follow, so the pause holds
 * for them however late its watch of VMs is.
 */
export async function pauseSimulator(namespace: string, name: string, paused: boolean): Promise<void> {
  const annotations = { [IGNORE]: paused ? 'true' : null };
  await adminApi().patch(
    { apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name, namespace, annotations } } as never,
    undefined, undefined, undefined, undefined, PatchStrategy.MergePatch,
  );
  try {
    await adminApi().patch(
      { apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachineInstance', metadata: { name, namespace, annotations } } as never,
      undefined, undefined, undefined, undefined, PatchStrategy.MergePatch,
    );
  } catch (err) {
    // A stopped VM has no VMI: the VM's annotation alone pauses the one it gets.
    if ((err as { code?: number }).code !== 404) throw err;
  }
}

/**
 * Runs a `--wait` command with the node side paused for the VM until the command has printed its first
 * state line (matching `first`), then resumes it. So the first state is the one right after the edit,
 * however slow the machine: without the pause, the node side's whole walk (a few 300 ms steps) can end
 * before the command's first read. virt-controller is not paused: by the first line it may already have
 * taken the edit into the VMI spec (a hot-plugged interface, state absent), but nothing has been attached
 * or detached. `meanwhile` runs after the first line, before the node side resumes (to delete a NAD, say).
 */
export async function runWaitingCli(
  namespace: string,
  vm: string,
  args: string[],
  first: RegExp,
  opts: { meanwhile?: () => Promise<void>; killAfterMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const { spawn } = await import('node:child_process');
  const { cliPath, sandbox } = await import('./cluster.js');
  await pauseSimulator(namespace, vm, true);
  const started = Date.now();
  const child = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, KUBECONFIG: sandbox().kubeconfig, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  // Never outlives the test: killed after 50 s (or killAfterMs), or when anything below fails.
  const killer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 50_000);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  const printedFirst = new Promise<void>((resolve) => child.stderr.on('data', (d) => ((stderr += d), stderr.split('\n').some((l) => first.test(l)) && resolve())));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? -1));
  });
  try {
    try {
      await Promise.race([printedFirst, exited]);
      // Still paused: what the test does before the node side acts on the edit.
      await opts.meanwhile?.();
    } finally {
      await pauseSimulator(namespace, vm, false);
    }
    return { code: await exited, stdout, stderr, ms: Date.now() - started };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(killer);
  }
}
