/**
 * What `hotplug add`, `hotplug remove` and `link set` share: the --wait and
 * --timeout flags and the edit-then-wait pipeline
 * (gather facts, plan, send with retry, print, optionally watch the VMI).
 */
import { Flags } from '@oclif/core';
import { ClusterCommand } from '../../cli/base.js';
import type { ConnectionFlags } from '../../kube/config.js';
import { VnetError } from '../../errors.js';
import type { ClusterFacts } from '../../domain/hotplug.js';
import type { EditPlan } from '../../domain/patch.js';
import type { VirtualMachine } from '../../domain/types.js';
import type { KubeClient } from '../../kube/client.js';
import type { DryRun } from '../../kube/edit.js';
import type { WaitGoal } from '../../kube/wait.js';

export const waitFlags = {
  wait: Flags.boolean({ description: 'Watch the VMI and show progress until the change is live (a spinner on a TTY, plain lines otherwise)', default: false }),
  timeout: Flags.string({ description: 'How long --wait waits (e.g. 90s, 5m; 0 waits without a limit); on expiry the exit code is 6 and the current state is printed', default: '5m' }),
};

export interface EditAndWaitInput {
  client: KubeClient;
  target: { namespace: string; name: string };
  facts: ClusterFacts;
  /** Notes from gathering the facts (what could not be read). */
  factNotes: string[];
  plan: (vm: VirtualMachine, facts: ClusterFacts) => EditPlan;
  /** The wait goal for the plan that was sent. */
  goal: (plan: EditPlan) => WaitGoal;
  dryRun: DryRun;
  output?: 'yaml' | 'json' | 'name';
  wait: boolean;
  timeoutMs: number;
  note: (line: string) => void;
  out: (text: string) => void;
}

/**
 * Sends the edit through the shared pipeline (re-read, re-check with a fresh
 * VMI, re-plan and retry on conflicts), prints it the kubectl way, then
 * waits when asked.
 */
export async function editAndWait(input: EditAndWaitInput): Promise<void> {
  const [{ editVM }, { renderEditResult }, { readVMIFact }] = await Promise.all([import('../../kube/edit.js'), import('../../cli/edit-output.js'), import('../../kube/hotplug-facts.js')]);
  const facts = input.facts;
  const { namespace, name } = input.target;
  const result = await editVM(
    input.client,
    input.target,
    async (vm, attempt) => {
      // A retry means the VM changed: the VMI may have too (an unplug finished, a plug landed).
      if (attempt > 1 && facts.vmi !== undefined) facts.vmi = (await readVMIFact(input.client, namespace, name)).vmi;
      return input.plan(vm, facts);
    },
    { dryRun: input.dryRun, maxAttempts: 15 },
  ).catch((err: unknown) => {
    if (err instanceof VnetError && err.code === 'precondition' && err.message.includes('is a VirtualMachineInstance without a VirtualMachine')) {
      throw new VnetError('precondition', `"${name}" in namespace "${namespace}" is a VirtualMachineInstance without a VirtualMachine: only VirtualMachines can be hot-plugged or changed live`, {
        hint: 'run the workload through a VirtualMachine, or create the VMI anew with the interface in its spec',
      });
    }
    throw err;
  });
  for (const n of input.factNotes) input.note(`Note: ${n}`);
  const rendered = renderEditResult(result, input.output ?? 'default');
  for (const line of rendered.stderr) input.note(line);
  input.out(rendered.stdout);
  if (!input.wait) return;
  if (input.dryRun !== 'none') {
    input.note('Note: --wait does nothing with a dry run: nothing changed');
    return;
  }
  const { waitForInterface, createProgress } = await import('../../kube/wait.js');
  const goal = input.goal(result.plan);
  const ctl = new AbortController();
  const onSigint = () => ctl.abort();
  // `on`, not `once`: the listener must still be there when a spinner library's
  // exit hook counts SIGINT listeners, or it re-raises the signal and the process dies mid-report.
  process.on('SIGINT', onSigint);
  const progress = await createProgress(`interface ${goal.name}`, { machineOutput: input.output !== undefined });
  let last = 'waiting';
  try {
    const res = await waitForInterface(input.client, result.after, goal, {
      timeoutMs: input.timeoutMs,
      signal: ctl.signal,
      onState: (s) => {
        last = s;
        progress.update(s);
      },
    });
    progress.finish(`interface ${goal.name}: ${res.state}`, true);
    if (res.outcome === 'no-vmi') input.note(`Note: ${res.note}`);
  } catch (err) {
    // The error itself (with its hint) is printed once, by the command's error handler.
    progress.finish(`interface ${goal.name}: ${last}`, false);
    throw err;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

/** The parsed flags the live path of an interface edit uses. */
export type LiveEditFlags = ConnectionFlags & { debug?: boolean; timeout: string; wait: boolean; 'dry-run': DryRun; output?: 'yaml' | 'json' | 'name' };

/** What one interface edit plans and waits for, given the namespace it runs in. */
export interface LiveEdit {
  /** The NAD to read for the checks (hotplug add). */
  nad?: { namespace: string; name: string };
  /** Read the MACs other VMs and VMIs claim, for the collision check (hotplug add --mac). */
  macUses?: boolean;
  plan: EditAndWaitInput['plan'];
  goal: EditAndWaitInput['goal'];
}

/**
 * `hotplug add`, `hotplug remove` and `link set`: after parsing, their live
 * path is the same (a bad --timeout is refused before connecting; gather the
 * facts, edit, print, wait). Only the plan and the wait goal differ.
 */
export abstract class InterfaceEditCommand extends ClusterCommand {
  protected async editLive(flags: LiveEditFlags, vmName: string, build: (namespace: string) => LiveEdit): Promise<void> {
    const [{ parseDuration }, { gatherHotplugFacts }] = await Promise.all([import('../../kube/duration.js'), import('../../kube/hotplug-facts.js')]);
    const timeoutMs = parseDuration(flags.timeout, '--timeout');
    const { conn, client } = await this.connect(flags);
    const target = { namespace: conn.namespace, name: vmName };
    const edit = build(conn.namespace);
    const gathered = await gatherHotplugFacts(client, target, { nad: edit.nad, macUses: edit.macUses });
    await editAndWait({
      client,
      target,
      facts: gathered.facts,
      factNotes: gathered.notes,
      plan: edit.plan,
      goal: edit.goal,
      dryRun: flags['dry-run'],
      output: flags.output,
      wait: flags.wait,
      timeoutMs,
      note: (l) => this.note(l),
      out: (t) => this.out(t),
    });
  }
}
