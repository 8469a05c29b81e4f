// Entry of the bundled CLI (scripts/bundle.mjs): package.json and the oclif
// manifest are embedded by the bundler, the commands come from dist/commands.js.
import pjson from '../package.json' with { type: 'json' };
import manifest from '../oclif.manifest.json' with { type: 'json' };

if (process.argv[2] === '__complete') {
  // Shell completion (kubectl_complete-vnet): from the manifest, without loading oclif.
  const { runComplete } = await import('../dist/cli/complete-run.js');
  await runComplete(manifest, pjson.oclif.topics ?? {}, process.argv.slice(3));
} else {
  const { runEmbedded } = await import('../dist/standalone.js');
  await runEmbedded(pjson, manifest);
}
