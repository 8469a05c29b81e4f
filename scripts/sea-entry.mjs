// Entry of the bundled CLI (scripts/bundle.mjs): package.json and the oclif
// manifest are embedded by the bundler, the commands come from dist/commands.js.
// (No top-level await: the bundle is CommonJS, as single executables need.)
import pjson from '../package.json' with { type: 'json' };
import manifest from '../oclif.manifest.json' with { type: 'json' };

if (process.argv[2] === '__complete') {
  // Shell completion (kubectl_complete-vnet): from the manifest, without loading oclif.
  import('../dist/cli/complete-run.js').then(({ runComplete }) => runComplete(manifest, pjson.oclif.topics ?? {}, process.argv.slice(3)));
} else {
  import('../dist/standalone.js').then(({ runEmbedded }) => runEmbedded(pjson, manifest));
}
