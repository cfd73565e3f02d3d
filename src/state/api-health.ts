/**
 * API health per api name: a sliding success ratio and the current run of failures. Memory is
 * bounded twice over: a fixed ring of time buckets per api, and a cap on how many api names are
 * tracked (further names fold into `other`), so a bot reporting free text cannot grow it.
 */

import { maskKnownSecrets } from '../core/redact.js';

const BUCKET_MS = 30_000;
const BUCKETS = 10; // 10 × 30 s = the 5-minute window the README documents
export const API_WINDOW_MS = BUCKET_MS * BUCKETS;
export const MAX_APIS = 20;
const API_NAME = /^[a-z][a-z0-9_]{0,31}$/;

interface Series {
  /** Per bucket: start time, successes, failures. */
  readonly starts: number[];
  readonly ok: number[];
  readonly failed: number[];
  consecutiveFailures: number;
}

/** Lowercase `snake_case` of at most 32 characters, or `other`: the value becomes a label. */
export function apiLabel(raw: unknown): string {
  if (typeof raw !== 'string') return 'other';
  const name = raw.trim().toLowerCase().replace(/[-\s.]+/g, '_');
  // A registered secret that happens to look like an api name must never become a label.
  return API_NAME.test(name) && maskKnownSecrets(raw) === raw ? name : 'other';
}

export class ApiHealth {
  private readonly series = new Map<string, Series>();
  /** Names the plugin itself knows (built-in and configured hosts): they always get their own series. */
  private readonly reserved = new Set<string>();
  /** Series of names not reserved, which share what the reserved leave of MAX_APIS. */
  private free = 0;

  constructor(private readonly now: () => number) {}

  /**
   * Keeps a slot for each of these names, so whatever a bot reports first (free text, many
   * names) can never push `clob` or a configured API into `other`.
   */
  reserve(names: Iterable<string>): void {
    for (const name of names) {
      if (this.reserved.size >= MAX_APIS) break;
      this.reserved.add(name);
    }
  }

  /** Records one call; returns the label it was counted under. */
  record(api: string, ok: boolean): string {
    const known = this.series.has(api) || this.reserved.has(api);
    const label = known || this.free < MAX_APIS - this.reserved.size ? api : 'other';
    if (!this.series.has(label) && !this.reserved.has(label) && label !== 'other') this.free += 1;
    let s = this.series.get(label);
    if (!s) {
      s = { starts: new Array(BUCKETS).fill(-Infinity), ok: new Array(BUCKETS).fill(0), failed: new Array(BUCKETS).fill(0), consecutiveFailures: 0 };
      this.series.set(label, s);
    }
    const t = this.now();
    const start = t - (t % BUCKET_MS);
    const i = Math.floor(t / BUCKET_MS) % BUCKETS;
    if (s.starts[i] !== start) {
      s.starts[i] = start;
      s.ok[i] = 0;
      s.failed[i] = 0;
    }
    if (ok) {
      s.ok[i]! += 1;
      s.consecutiveFailures = 0;
    } else {
      s.failed[i]! += 1;
      s.consecutiveFailures += 1;
    }
    return label;
  }

  /** Successes and failures over the window. */
  counts(api: string): { ok: number; failed: number } {
    let ok = 0;
    let failed = 0;
    const s = this.series.get(api);
    if (!s) return { ok, failed };
    const oldest = this.now() - API_WINDOW_MS;
    for (let i = 0; i < BUCKETS; i++) {
      if (s.starts[i]! + BUCKET_MS > oldest) {
        ok += s.ok[i]!;
        failed += s.failed[i]!;
      }
    }
    return { ok, failed };
  }

  /** Success ratio over the window, or undefined when the api had no calls in it. */
  successRatio(api: string): number | undefined {
    const { ok, failed } = this.counts(api);
    return ok + failed === 0 ? undefined : ok / (ok + failed);
  }

  consecutiveFailures(api: string): number {
    return this.series.get(api)?.consecutiveFailures ?? 0;
  }

  apis(): IterableIterator<string> {
    return this.series.keys();
  }
}
