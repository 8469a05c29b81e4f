import type { Writable } from 'node:stream';
import { stringify } from 'yaml';

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml' | 'name';

export interface Streams {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}

/** Serialises a document in json or yaml. */
export function formatDocument(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? toJson(value) : toYaml(value);
}

/** Colour and spinners only on a TTY, never with NO_COLOR, never for machine output. */
export function useColour(stream: { isTTY?: boolean }, format: OutputFormat | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !('NO_COLOR' in env && env.NO_COLOR !== undefined) && (format === undefined || format === 'table' || format === 'wide');
}

const codes = { red: 31, green: 32, yellow: 33, bold: 1, dim: 2 } as const;
export type Paint = (style: keyof typeof codes, text: string) => string;

export function painter(enabled: boolean): Paint {
  return enabled ? (style, text) => `\u001b[${codes[style]}m${text}\u001b[0m` : (_style, text) => text;
}
