// Loads the separately bundled @kubernetes/client-node (kubelib.cjs) on first
// use, so that commands that need no cluster never parse or run it. In a
// single executable it comes from the SEA asset `kubelib.cjs`, with the V8
// code cache `kubelib.cache` when the build made one for this platform;
// outside one (a plain `node kubectl-vnet.cjs`), from the file next to the bundle.
'use strict';
const path = require('node:path');
const vm = require('node:vm');
const { wrap } = require('node:module');

let loaded;

function loadKubeLib() {
  if (loaded) return loaded;
  let sea;
  try {
    sea = require('node:sea');
  } catch {
    sea = undefined;
  }
  let source;
  let cachedData;
  let filename;
  if (sea && sea.isSea()) {
    filename = path.join(path.dirname(process.execPath), 'kubelib.cjs');
    source = sea.getAsset('kubelib.cjs', 'utf8');
    try {
      cachedData = Buffer.from(sea.getAsset('kubelib.cache'));
    } catch {
      cachedData = undefined; // no cache for this platform: V8 compiles lazily
    }
  } else {
    filename = path.join(__dirname, 'kubelib.cjs');
    source = require('node:fs').readFileSync(filename, 'utf8');
  }
  // Build time (scripts/release.mjs): the cache is made under a fixed file name, as a V8 code
  // cache records the script's name, so that it does not depend on the folder of the build.
  const cacheOut = !(sea && sea.isSea()) && process.env.KUBECTL_VNET_KUBELIB_CACHE_OUT;
  const script = new vm.Script(wrap(source), { filename: cacheOut ? 'kubelib.cjs' : filename, cachedData });
  if (process.env.KUBECTL_VNET_DEBUG_STARTUP) {
    process.stderr.write(`startup: kubelib.cjs code cache ${cachedData ? (script.cachedDataRejected ? 'rejected' : 'used') : 'absent'}\n`);
  }
  const fn = script.runInThisContext();
  if (cacheOut) {
    // Build time only: the code cache after this run.
    process.on('exit', () => require('node:fs').writeFileSync(cacheOut, script.createCachedData()));
  }
  const mod = { exports: {} };
  fn.call(mod.exports, mod.exports, require, mod, filename, path.dirname(filename));
  loaded = mod.exports;
  return loaded;
}

module.exports = { loadKubeLib };
