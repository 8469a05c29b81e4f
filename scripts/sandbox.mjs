// npm run sandbox -- up [--dir DIR] [--simulate] [--fresh] | down [--dir DIR] | status [--dir DIR] | kubectl
import path from 'node:path';
import { down, ensureKubectl, sandboxPaths, sandboxRunning, up } from './sandbox-lib.mjs';

const [cmd, ...rest] = process.argv.slice(2);
let dir = '.sandbox';
let simulate = false;
let fresh = false;
const simulatorArgs = [];
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === '--dir') dir = rest[++i];
  else if (rest[i].startsWith('--dir=')) dir = rest[i].slice(6);
  else if (rest[i] === '--simulate') simulate = true;
  else if (rest[i] === '--fresh') fresh = true;
  else if (rest[i].startsWith('--sim-')) simulatorArgs.push(`--${rest[i].slice(6)}`, rest[++i]);
  else {
    console.error(`sandbox: unknown argument ${rest[i]}\nusage: npm run sandbox -- up|down|status [--dir DIR] [--simulate] [--fresh]`);
    process.exit(2);
  }
}

try {
  switch (cmd) {
    case 'up': {
      const p = await up({ dir, simulate, simulatorArgs, fresh });
      console.log(`export KUBECONFIG=${p.kubeconfig}`);
      console.error(`sandbox: other users: ${path.relative(process.cwd(), p.viewer)} (viewer), ${path.relative(process.cwd(), p.editor)} (editor, namespace team-a)`);
      break;
    }
    case 'down': {
      const r = await down({ dir });
      console.error(r.stopped ? `sandbox: stopped (${path.resolve(dir)})` : `sandbox: nothing was running in ${path.resolve(dir)}`);
      break;
    }
    case 'status': {
      const running = sandboxRunning(dir);
      console.log(running ? `running: export KUBECONFIG=${sandboxPaths(dir).kubeconfig}` : 'not running');
      process.exitCode = running ? 0 : 1;
      break;
    }
    case 'kubectl':
      console.log(ensureKubectl());
      break;
    default:
      console.error('usage: npm run sandbox -- up|down|status [--dir DIR] [--simulate] [--fresh]');
      process.exit(2);
  }
} catch (err) {
  console.error(`sandbox: ${err.message}`);
  process.exit(1);
}
