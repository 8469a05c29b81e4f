// Entry of the bundled CLI (scripts/bundle.mjs): package.json and the oclif
// manifest are embedded by the bundler, the commands come from dist/commands.js.
import pjson from '../package.json' with { type: 'json' };
import manifest from '../oclif.manifest.json' with { type: 'json' };
import { runEmbedded } from '../dist/standalone.js';

runEmbedded(pjson, manifest);
