// Runs the CLI in this process, as the executable does (oclif's parse, help and errors), with the
// tool's own writes going to buffers. No API server: for usage errors, help and the paths that
// need no cluster (file mode with --local). oclif prints help text with console.log, which is
// captured for the length of the run.
import { readFileSync } from 'node:fs';
import { format } from 'node:util';
import { runTopLevel } from '../../src/cli/top-level.js';
import { bufferIO } from '../../src/cli/io.js';
import { embeddedLoadOptions, type EmbeddedManifest } from '../../src/standalone.js';

const pjson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
const manifest = JSON.parse(readFileSync(new URL('../../oclif.manifest.json', import.meta.url), 'utf8')) as EmbeddedManifest;

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `kubectl vnet ARGS...` in-process. */
export async function vnet(args: string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<InProcessResult> {
  const env = { NO_COLOR: '1', ...opts.env };
  const io = bufferIO({ stdin: opts.stdin, env });
  // oclif prints help with console.log (ux.stdout).
  const log = console.log;
  let oclifOut = '';
  console.log = (...args: unknown[]) => {
    oclifOut += format(...args) + '\n';
  };
  const savedExit = process.exitCode;
  try {
    await runTopLevel(args, embeddedLoadOptions(pjson, manifest, {}), io);
  } finally {
    console.log = log;
    process.exitCode = savedExit;
  }
  return { code: io.exitCode() ?? 0, stdout: oclifOut + io.out(), stderr: io.err() };
}
