// The main script of the single executables. It runs the bundled CLI
// (SEA asset kubectl-vnet.cjs) through vm.Script with the V8 code cache
// kubectl-vnet.cache, made at build time after runs of the CLI, so that the
// functions start-up needs are deserialized instead of compiled (Node's own
// `useCodeCache` caches only what is compiled before the script runs).
// Without a cache (other platforms than the build host) V8 compiles lazily.
// KUBECTL_VNET_DEBUG_STARTUP=1 says on stderr whether the caches were used.
//
// One fast path: `version` without flags prints the client version without
// loading the CLI at all. It prints what the oclif command prints (the
// release smoke run and test/cli/krew.test.ts compare the two; with
// KUBECTL_VNET_NO_FAST_PATH=1 it goes through oclif); any flag or other
// command goes through oclif.
'use strict';
const path = require('node:path');
const vm = require('node:vm');
const { wrap } = require('node:module');
const sea = require('node:sea');

function runCli() {
  const filename = path.join(path.dirname(process.execPath), 'kubectl-vnet.cjs');
  let cachedData;
  try {
    cachedData = Buffer.from(sea.getAsset('kubectl-vnet.cache'));
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(wrap(sea.getAsset('kubectl-vnet.cjs', 'utf8')), { filename, cachedData });
  if (process.env.KUBECTL_VNET_DEBUG_STARTUP) {
    process.stderr.write(`startup: kubectl-vnet.cjs code cache ${cachedData ? (script.cachedDataRejected ? 'rejected' : 'used') : 'absent'}\n`);
  }
  const mod = { exports: {} };
  script.runInThisContext().call(mod.exports, mod.exports, require, mod, filename, path.dirname(filename));
}

// oclif checks at import time that Node satisfies its own package.json
// engines, loading semver for it (about 4 ms); the executable carries Node
// 26, so the check can never fail here.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === 'version' && !process.env.KUBECTL_VNET_NO_FAST_PATH) {
  const { version } = JSON.parse(sea.getAsset('meta.json', 'utf8'));
  process.stdout.write(`Client Version: v${version}\n`);
} else {
  runCli();
}
