/**
 * A list-then-watch cache of one collection, as client-go's reflector keeps one:
 * one list (its resourceVersion), then a watch from there that keeps the items
 * current; when the server closes the watch (its timeout, a restart of the
 * connection) it is opened again from the last resourceVersion seen (bookmarks
 * included), and when that version is too old (410 Gone, as an ERROR event or
 * the answer) the collection is listed again. Never polls.
 */
import { VnetError } from '../errors.js';
import type { KubeApi } from './api.js';

interface Named {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
}

export interface ReflectorOptions<T> {
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Applied to each item kept (the fields the caller needs). */
  project?: (item: T) => T;
  /** How long the server may keep one watch open; client-go asks for 5 to 10 minutes. */
  timeoutSeconds?: number;
}

export class Reflector<T extends Named> {
  /** The items by namespace/name. */
  readonly items = new Map<string, T>();
  private rv: string | undefined;

  constructor(
    private readonly client: KubeApi,
    private readonly o: ReflectorOptions<T>,
  ) {}

  private keep(item: T): void {
    this.items.set(`${item.metadata.namespace ?? ''}/${item.metadata.name}`, this.o.project ? this.o.project(item) : item);
  }

  /** Lists the collection (replacing what was kept) and remembers its resourceVersion. */
  async list(): Promise<void> {
    const l = await this.client.list<T>(this.o.path, { labelSelector: this.o.labelSelector, fieldSelector: this.o.fieldSelector });
    this.items.clear();
    for (const item of l.items) this.keep(item);
    this.rv = l.metadata.resourceVersion;
  }

  /**
   * Watches until `signal` aborts, calling onChange after each change to the items (and after a
   * relist). Resumes a watch the server closed from the last resourceVersion; lists again on 410.
   * Other errors end it (thrown).
   */
  async run(signal: AbortSignal, onChange: () => void): Promise<void> {
    while (!signal.aborted) {
      let gone = false;
      try {
        const events = this.client.watch<T>(this.o.path, {
          resourceVersion: this.rv,
          labelSelector: this.o.labelSelector,
          fieldSelector: this.o.fieldSelector,
          signal,
          timeoutSeconds: this.o.timeoutSeconds ?? 300 + Math.floor(Math.random() * 300),
        });
        for await (const ev of events) {
          if (ev.type === 'ERROR') {
            const status = ev.object as unknown as { code?: number; message?: string };
            if (status?.code === 410) {
              gone = true;
              break;
            }
            throw new VnetError('unreachable', `the watch of ${this.o.path} failed: ${status?.message ?? 'an ERROR event without a message'}`, { hint: 'run the command again', status: status?.code });
          }
          const obj = ev.object;
          if (obj?.metadata?.resourceVersion) this.rv = obj.metadata.resourceVersion;
          if (ev.type === 'BOOKMARK') continue;
          if (ev.type === 'DELETED') this.items.delete(`${obj.metadata.namespace ?? ''}/${obj.metadata.name}`);
          else this.keep(obj);
          onChange();
        }
      } catch (err) {
        if (signal.aborted || (err as Error).name === 'AbortError') return;
        if (!(err instanceof VnetError && err.status === 410)) throw err;
        gone = true;
      }
      if (gone && !signal.aborted) {
        await this.list();
        onChange();
      }
    }
  }
}
