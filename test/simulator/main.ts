// The node side of a KubeVirt cluster, for the sandbox where KubeVirt's own
// virt-controller and virt-api run (started by the sandbox's supervisor; the
// plugin never needs it):
//
//   node test/simulator/main.ts --kubeconfig FILE --handler-kubeconfig FILE [--step-ms N]
//                               [--nodes node01,node02] [--default-network-name NAME]
//
// It stands in for what runs on nodes, across all namespaces: the kubelet
// (nodes, binding and running launcher pods, removing deleted ones), Multus and
// its dynamic networks controller (network-status, attachments added and
// removed on running pods, their pod events), and virt-handler (a Scheduled VMI
// Running with its interface status; hot-plugged interfaces into the domain and
// the guest; unplugs; link state; the netconf hook sidecar's MAC; both sides of
// a live migration; shutdown). Everything else (VMIs from VMs, launcher pods,
// the pods' networks annotation, interface changes copied to VMIs, unplugged
// interfaces removed, RestartRequired, MigrationRequired, migrations started,
// admission) is KubeVirt's own virt-controller and virt-api.
//
//   --kubeconfig FILE            the cluster (an administrator: kubelet and Multus writes)
//   --handler-kubeconfig FILE    virt-handler's service account (VMI status writes: virt-api
//                                drops VMI status changes from anyone but KubeVirt's accounts)
//   --step-ms N                  delay between two steps of a walk (default 1000)
//   --nodes A,B                  node names: launcher pods run on the first, migrate to the next
//   --default-network-name NAME  the name Multus reports for the cluster network (default kindnet)
//   --watch-timeout SECONDS      how long one watch request lasts before it is renewed (default 240)
//
// A VM, VMI or launcher pod annotated `sim.kubectl-vnet.io/ignore: "true"` is
// left alone by the node side (tests pause it to see a state that would
// otherwise pass quickly); KubeVirt's controllers still act on it.
//
// It logs one line per action to stdout, re-lists and re-watches when a watch
// ends, and exits on SIGTERM or SIGINT.
import { KubeConfig } from '@kubernetes/client-node';
import { Rest } from './kube.ts';
import { NodeSimulator } from './node.ts';

function usage(msg: string): never {
  process.stderr.write(`simulator: ${msg}\nusage: node test/simulator/main.ts --kubeconfig FILE --handler-kubeconfig FILE [--step-ms N] [--nodes A,B] [--default-network-name NAME] [--watch-timeout SECONDS]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): { kubeconfig: string; handlerKubeconfig: string; stepMs: number; nodes: string[]; defaultNetworkName: string; watchTimeout: number } {
  const out = { kubeconfig: '', handlerKubeconfig: '', stepMs: 1000, nodes: ['node01', 'node02'], defaultNetworkName: 'kindnet', watchTimeout: 240 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') usage(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--kubeconfig':
        out.kubeconfig = value();
        break;
      case '--handler-kubeconfig':
        out.handlerKubeconfig = value();
        break;
      case '--step-ms': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 0) usage('--step-ms must be a whole number of milliseconds');
        out.stepMs = n;
        break;
      }
      case '--nodes':
        out.nodes = value()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        if (out.nodes.length === 0) usage('--nodes needs at least one name');
        break;
      case '--watch-timeout': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1) usage('--watch-timeout must be a whole number of seconds, at least 1');
        out.watchTimeout = n;
        break;
      }
      case '--default-network-name':
        out.defaultNetworkName = value();
        break;
      case '-h':
      case '--help':
        process.stdout.write('The node side of a KubeVirt cluster (for the sandbox). See the comment at the top of test/simulator/main.ts.\n');
        return process.exit(0);
      default:
        usage(`unknown argument ${argv[i]}`);
    }
  }
  if (!out.kubeconfig) usage('--kubeconfig is required');
  if (!out.handlerKubeconfig) usage('--handler-kubeconfig is required');
  return out;
}

function log(msg: string): void {
  process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
}

const args = parseArgs(process.argv.slice(2));
const kc = new KubeConfig();
try {
  kc.loadFromFile(args.kubeconfig);
} catch (err) {
  usage(`cannot read the kubeconfig ${args.kubeconfig}: ${(err as Error).message}`);
}
const handlerKc = new KubeConfig();
try {
  handlerKc.loadFromFile(args.handlerKubeconfig);
} catch (err) {
  usage(`cannot read the kubeconfig ${args.handlerKubeconfig}: ${(err as Error).message}`);
}
const rest = new Rest(kc);
rest.watchTimeoutSeconds = args.watchTimeout;
const handler = new Rest(handlerKc);
const sim = new NodeSimulator(rest, handler, { stepMs: args.stepMs, nodes: args.nodes, defaultNetworkName: args.defaultNetworkName, log });

process.on('uncaughtException', (err) => log(`unexpected error (carrying on): ${err.stack ?? err.message}`));
process.on('unhandledRejection', (err) => log(`unexpected rejection (carrying on): ${(err as Error)?.stack ?? String(err)}`));
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    log(`${sig}: stopping`);
    sim.stop();
    setTimeout(() => process.exit(0), 50).unref();
  });
}

log(`node-side simulator starting (pid ${process.pid}, step ${args.stepMs} ms, nodes ${args.nodes.join(',')}, server ${kc.getCurrentCluster()?.server ?? '?'})`);
sim.start().catch((err) => {
  log(`cannot start: ${(err as Error).message}`);
  process.exit(1);
});
