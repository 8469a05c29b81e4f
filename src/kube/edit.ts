import { setTimeout as sleep } from 'node:timers/promises';
import { StandaloneVMIError, VnetError } from '../errors.js';
import { applyPatch, type EditPlan } from '../domain/patch.js';
import type { VirtualMachine } from '../domain/types.js';
import type { KubeApi } from './api.js';
import { Resources, resourcePath } from './resources.js';

export type DryRun = 'none' | 'client' | 'server';

export interface EditResult {
  /** The plan of the last attempt: what was (or would be) sent. */
  plan: EditPlan;
  /** The VM as read on the last attempt. */
  before: VirtualMachine;
  /** The server's answer (none/server), or the plan applied locally (client dry run, noop). */
  after: VirtualMachine;
  sent: boolean;
  dryRun: DryRun;
  attempts: number;
}

export type Planner = (vm: VirtualMachine, attempt: number) => EditPlan | Promise<EditPlan>;

/**
 * The API server answers a JSON Patch whose `test` op failed (or whose path
 * vanished) with a bare 422 Invalid and no causes; admission and schema
 * rejections carry a message naming the object and causes. Only the first
 * means "the object changed under us": re-read and re-plan.
 */
export function isStalePatch(err: unknown): boolean {
  if (!(err instanceof VnetError)) return false;
  if (err.status === 409) return true;
  return err.status === 422 && err.reason === 'Invalid' && /the server rejected our request due to an error in our request$/.test(err.message);
}

/** Reads the VM to edit, or refuses with a message naming it and its namespace. */
export async function readVM(client: KubeApi, namespace: string, name: string): Promise<VirtualMachine> {
  const vm = await client.getOrNull<VirtualMachine>(resourcePath(Resources.vm, namespace, name));
  if (vm) return vm;
  const vmi = await client.getOrNull(resourcePath(Resources.vmi, namespace, name)).catch(() => null);
  if (vmi) throw new StandaloneVMIError(name, namespace);
  // Every write command refuses a missing VM before sending anything: the
  // precondition exit code, as for every other refusal (read commands use notFound).
  throw new VnetError('precondition', `virtualmachine "${name}" not found in namespace "${namespace}"`, {
    hint: 'check the name, and the namespace with -n (kubectl get vm -n NAMESPACE lists them)',
  });
}

/**
 * Reads the VM, plans the edit on it and sends the plan as one JSON Patch.
 * When a guarded `test` fails or the server reports a conflict, it reads the
 * VM again, plans again (the planner re-checks everything) and retries, a
 * bounded number of times with jittered backoff. A refusal from the planner
 * or the server is never retried.
 */
export async function editVM(client: KubeApi, target: { namespace: string; name: string }, plan: Planner, opts: { dryRun: DryRun; maxAttempts?: number }): Promise<EditResult> {
  const maxAttempts = opts.maxAttempts ?? 10;
  const path = resourcePath(Resources.vm, target.namespace, target.name);
  for (let attempt = 1; ; attempt++) {
    const before = await readVM(client, target.namespace, target.name);
    const p = await plan(before, attempt);
    if (p.noop || p.ops.length === 0) {
      return { plan: { ...p, noop: true }, before, after: before, sent: false, dryRun: opts.dryRun, attempts: attempt };
    }
    if (opts.dryRun === 'client') {
      return { plan: p, before, after: applyPatch(before, p.ops), sent: false, dryRun: 'client', attempts: attempt };
    }
    try {
      const after = await client.patch<VirtualMachine>(path, p.ops, { dryRun: opts.dryRun === 'server' });
      return { plan: p, before, after, sent: true, dryRun: opts.dryRun, attempts: attempt };
    } catch (err) {
      if (!isStalePatch(err)) throw err;
      if (attempt >= maxAttempts) {
        throw new VnetError('precondition', `virtualmachine "${target.name}" kept changing while it was being edited (${attempt} attempts); nothing was changed`, {
          hint: 'another client is editing the VM continuously; run the command again when it settles',
          cause: err,
        });
      }
      // Jittered exponential backoff: 50ms, 100ms, ... capped at 1.6s.
      const base = Math.min(1600, 50 * 2 ** (attempt - 1));
      await sleep(base / 2 + Math.random() * base);
    }
  }
}
