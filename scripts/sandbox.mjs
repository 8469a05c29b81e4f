// npm run sandbox -- up [--dir DIR] [--no-kubevirt] [--fresh] [--sim-OPTION VALUE] | down [--dir DIR] | status [--dir DIR] | kubectl
import fs from 'node:fs';
import path from 'node:path';
import { down, ensureKubectl, failure, kubevirtVersion, sandboxPaths, sandboxRunning, up } from './sandbox-lib.mjs';

const USAGE = 'usage: npm run sandbox -- up|down|status [--dir DIR] [--no-kubevirt] [--fresh] [--sim-OPTION VALUE]';
const [cmd, ...rest] = process.argv.slice(2);
let dir = '.sandbox';
let kubevirt = true;
let fresh = false;
const simulatorArgs = [];
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === '--dir') dir = rest[++i];
  else if (rest[i].startsWith('--dir=')) dir = rest[i].slice(6);
  else if (rest[i] === '--no-kubevirt') kubevirt = false;
  else if (rest[i] === '--fresh') fresh = true;
  else if (rest[i].startsWith('--sim-')) {
    const [flag, inline] = rest[i].slice(6).split(/=(.*)/s, 2);
    const value = inline ?? rest[++i];
    if (value === undefined || value === '') {
      console.error(`sandbox: --sim-${flag} needs a value\n${USAGE}`);
      process.exit(2);
    }
    simulatorArgs.push(`--${flag}`, value);
  }
  else {
    console.error(`sandbox: unknown argument ${rest[i]}\n${USAGE}`);
    process.exit(2);
  }
}

try {
  switch (cmd) {
    case 'up': {
      const p = await up({ dir, kubevirt, simulatorArgs, fresh });
      console.log(`export KUBECONFIG=${p.kubeconfig}`);
      console.error(`sandbox: other users: ${path.relative(process.cwd(), p.viewer)} (viewer), ${path.relative(process.cwd(), p.editor)} (editor, namespace team-a)`);
      if (kubevirt && !p.reused) console.error(`sandbox: KubeVirt ${kubevirtVersion()} (virt-controller, virt-api); demo: namespace lab, VM demo, NADs blue-net, macvlan-net, ovn-net`);
      break;
    }
    case 'down': {
      const r = await down({ dir });
      console.error(r.stopped ? `sandbox: stopped (${path.resolve(dir)})` : `sandbox: nothing was running in ${path.resolve(dir)}`);
      break;
    }
    case 'status': {
      const p = sandboxPaths(dir);
      const running = sandboxRunning(dir);
      if (running) console.log(`running: export KUBECONFIG=${p.kubeconfig}`);
      else console.log(`not running${fs.existsSync(p.failed) ? failure(p) : ''}`);
      process.exitCode = running ? 0 : 1;
      break;
    }
    case 'kubectl':
      console.log(ensureKubectl());
      break;
    default:
      console.error(USAGE);
      process.exit(2);
  }
} catch (err) {
  console.error(`sandbox: ${err.message}`);
  process.exit(1);
}
