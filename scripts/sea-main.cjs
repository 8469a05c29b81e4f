// The main script of the single executables. It runs the bundled CLI
// (SEA asset kubectl-vnet.cjs) through vm.Script with the V8 code cache
// kubectl-vnet.cache, made at build time after a run of the CLI, so that
// the functions start-up needs are deserialized instead of compiled (Node's
// own `useCodeCache` caches only what is compiled before the script runs).
// Without a cache (other platforms than the build host) V8 compiles lazily.
// KUBECTL_VNET_DEBUG_STARTUP=1 says on stderr whether the caches were used.
'use strict';
const path = require('node:path');
const vm = require('node:vm');
const { wrap } = require('node:module');
const sea = require('node:sea');

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
