// Bundles the built CLI (dist/, package.json, oclif.manifest.json) into two
// CommonJS scripts for the single executables:
//   kubectl-vnet.cjs  oclif, the commands and everything they import at start-up
//   kubelib.cjs       @kubernetes/client-node, loaded by kubelib-loader.cjs only
//                     when a command connects to a cluster
// Every command registered in src/commands.ts at build time is in the bundle
// (dist/commands.js is the entry of the command map).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** Redirects `import('@kubernetes/client-node')` to the lazy asset loader. */
const kubelibPlugin = {
  name: 'kubelib',
  setup(b) {
    b.onResolve({ filter: /^@kubernetes\/client-node$/ }, () => ({ path: 'kubelib', namespace: 'kubelib' }));
    b.onLoad({ filter: /.*/, namespace: 'kubelib' }, () => ({
      contents: `module.exports = require(${JSON.stringify(path.join(root, 'scripts', 'kubelib-loader.cjs'))}).loadKubeLib();`,
      loader: 'js',
      resolveDir: root,
    }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  // client-node and its dependencies mention optional modules they never load here.
  logOverride: { 'empty-import-meta': 'silent', 'require-resolve-not-external': 'silent' },
};

export async function bundle(outDir = path.join(root, 'release', 'build')) {
  mkdirSync(outDir, { recursive: true });
  const main = path.join(outDir, 'kubectl-vnet.cjs');
  const kubelib = path.join(outDir, 'kubelib.cjs');
  await build({
    ...common,
    entryPoints: [path.join(root, 'scripts', 'sea-entry.mjs')],
    outfile: main,
    plugins: [kubelibPlugin],
  });
  await build({
    ...common,
    stdin: { contents: "export * from '@kubernetes/client-node';", resolveDir: root, sourcefile: 'kubelib-entry.mjs' },
    outfile: kubelib,
  });
  return { main, kubelib };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await bundle(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  console.log(`bundled ${path.relative(root, out.main)} and ${path.relative(root, out.kubelib)}`);
}
