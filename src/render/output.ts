import { stringify } from 'yaml';

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml' | 'name';

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

// The SGR sequences painter() writes; anything else that drives the terminal is escaped.
const OWN_SGR = /\u001b\[(?:0|1|2|31|32|33)m/y;
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/**
 * Text for a terminal: control characters (other than newline and tab) that came
 * from the cluster or a guest (condition messages, guest-agent interface names,
 * server errors) are shown in caret notation (ESC as ^[, BEL as ^G, CR as ^M;
 * C1 controls as \u0080..\u009f) so they cannot move the cursor, clear the
 * screen or set the window title. With keepOwnColour, the exact colour
 * sequences painter() emits are kept.
 */
export function escapeControl(text: string, keepOwnColour = false): string {
  if (!CONTROL.test(text)) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x1b && keepOwnColour) {
      OWN_SGR.lastIndex = i;
      const m = OWN_SGR.exec(text);
      if (m) {
        out += m[0];
        i += m[0].length - 1;
        continue;
      }
    }
    if ((c < 0x20 && c !== 0x0a && c !== 0x09) || c === 0x7f) out += c === 0x7f ? '^?' : '^' + String.fromCharCode(c + 0x40);
    else if (c >= 0x80 && c <= 0x9f) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += text[i];
  }
  return out;
}
