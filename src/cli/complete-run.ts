/**
 * `kubectl-vnet __complete WORDS...`: what `kubectl_complete-vnet` and the
 * shell scripts of `kubectl vnet completion` call. It runs without oclif (the
 * entry points route it here with the oclif manifest), plans the completion
 * and, for VM, interface, namespace, NAD and context names, asks the cluster
 * with the connection flags typed so far, bounded by a short timeout.
 * It is silent on errors: a completion never prints an error message.
 */
import { Directive, formatCompletion, planCompletion, type Candidate, type CompletionManifest, type Dynamic, type Topics } from './complete.js';
import { compareStrings } from '../domain/order.js';

/** How long a completion may wait for the cluster, unless --request-timeout says otherwise. */
const COMPLETION_TIMEOUT = '3s';

interface Named {
  metadata?: { name?: string };
}

async function fetchNames(dynamic: Dynamic, connection: Record<string, string | string[]>): Promise<Candidate[]> {
  const [{ loadConnection }, { KubeClient }, { Resources, resourcePath }] = await Promise.all([
    import('../kube/config.js'),
    import('../kube/client.js'),
    import('../kube/resources.js'),
  ]);
  const conn = await loadConnection({ 'request-timeout': COMPLETION_TIMEOUT, ...connection });
  if (dynamic.kind === 'context') {
    return conn.contextNames.map((name) => ({ value: name }));
  }
  const client = new KubeClient(conn);
  try {
    switch (dynamic.kind) {
      case 'vm': {
        const list = await client.list<Named>(resourcePath(Resources.vm, conn.namespace));
        return list.items.map((vm) => ({ value: vm.metadata?.name ?? '' }));
      }
      case 'namespace': {
        const list = await client.list<Named>(resourcePath(Resources.namespace));
        return list.items.map((ns) => ({ value: ns.metadata?.name ?? '' }));
      }
      case 'nad': {
        const list = await client.list<Named>(resourcePath(Resources.nad, conn.namespace));
        return list.items.map((nad) => ({ value: nad.metadata?.name ?? '' }));
      }
      case 'iface': {
        const vm = await client.get<{ spec?: { template?: { spec?: { domain?: { devices?: { interfaces?: { name?: string; state?: string }[] } } } } } }>(
          resourcePath(Resources.vm, conn.namespace, dynamic.vm),
        );
        const ifaces = vm.spec?.template?.spec?.domain?.devices?.interfaces ?? [];
        return ifaces.map((i) => ({ value: i.name ?? '', description: i.state ? `state: ${i.state}` : undefined }));
      }
    }
  } finally {
    client.close();
  }
}

/** Completes `words` and returns the text for stdout. */
export async function completeWords(manifest: CompletionManifest, topics: Topics, words: string[]): Promise<string> {
  const plan = planCompletion(manifest, topics, words.length === 0 ? [''] : words);
  let candidates = plan.candidates;
  if (plan.dynamic) {
    try {
      const names = await fetchNames(plan.dynamic, plan.connection);
      candidates = names
        .filter((c) => c.value && c.value.startsWith(plan.prefix))
        .sort((a, b) => compareStrings(a.value, b.value))
        .map((c) => ({ ...c, value: plan.valuePrefix + c.value }));
    } catch {
      candidates = []; // no cluster, no rights, a timeout: complete nothing, say nothing
    }
  }
  return formatCompletion(candidates, plan.directive ?? Directive.noFileComp);
}

/** The `__complete` entry: writes the completion to stdout and never fails loudly. */
export async function runComplete(manifest: CompletionManifest, topics: Topics, words: string[]): Promise<void> {
  let text: string;
  try {
    text = await completeWords(manifest, topics, words);
  } catch {
    text = formatCompletion([], Directive.noFileComp);
  }
  await new Promise<void>((resolve) => process.stdout.write(text, () => resolve()));
}
