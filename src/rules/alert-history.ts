/**
 * What to tell people about the rule conditions that hold this cycle: duplicate window, per-
 * component cooldown, escalation and "resolved". Plain and clock-injected; the caller hands the
 * decisions to the sinks.
 *
 * An alert is identified by family + component (the catalog's rules of one family are one
 * condition at different severities: PolymarketBotDailyLossWarning then …Critical is an
 * escalation of one alert); severity decides whether a change is news (escalation) or not. The message text never takes part: the predecessor keyed on
 * it and re-alerted whenever a dollar amount changed.
 */
import type { Severity } from '../core/model.js';

export interface Condition {
  /** The catalog's rule name (src/rules/catalog.ts). */
  readonly rule: string;
  /** The rule's family: the more severe of one family and component replaces the less. */
  readonly family: string;
  readonly component: string;
  readonly severity: Severity;
  readonly title: string;
  readonly description: string;
}

export type Decision =
  | {
      readonly kind: 'firing';
      readonly condition: Condition;
      /** 'reminder': still firing after the duplicate window; 'escalation': now more severe than last sent. */
      readonly cause: 'new' | 'reminder' | 'escalation';
    }
  | {
      readonly kind: 'resolved';
      /** The condition as last sent, so the message pairs with the one people saw. */
      readonly condition: Condition;
    };

export interface AlertHistoryOptions {
  readonly duplicateWindowMs: number;
  readonly cooldownMs: number;
  readonly now: () => number;
  /** Upper bound on remembered alerts; the least recently seen go first. Default 1000. */
  readonly maxEntries?: number;
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

interface Entry {
  /** Last sent, null if it has been suppressed every time so far. */
  lastSent: Condition | null;
  lastSentAt: number;
  /** Sent and not yet resolved: only these get a "resolved". */
  announced: boolean;
  lastSeenAt: number;
  lastSeenCycle: number;
}

const keyOf = (c: Pick<Condition, 'family' | 'component'>): string => JSON.stringify([c.family, c.component]);

export class AlertHistory {
  private readonly entries = new Map<string, Entry>();
  /** Component → time of its last notification (resolved messages excluded). */
  /** Per component: when it was last notified, and the most severe thing said in that cooldown. */
  private readonly notified = new Map<string, { at: number; severity: Severity }>();
  private readonly maxEntries: number;
  private readonly retainMs: number;
  private cycle = 0;
  private lastNow = -Infinity;

  constructor(private readonly opts: AlertHistoryOptions) {
    this.maxEntries = Math.max(1, Math.floor(opts.maxEntries ?? 1000));
    this.retainMs = Math.max(opts.duplicateWindowMs, opts.cooldownMs);
  }

  /** One evaluation cycle: every condition that holds now. Returns what to send now; counts suppressions. */
  evaluate(firing: readonly Condition[]): { send: Decision[]; suppressed: number } {
    const now = this.opts.now();
    if (now < this.lastNow) this.rebase(now);
    this.lastNow = now;
    this.cycle += 1;

    const send: Decision[] = [];
    let suppressed = 0;
    for (const condition of this.mostSevereFirst(firing)) {
      const entry = this.touch(condition, now);
      const cause = this.causeToSend(condition, entry, now);
      if (cause === null) {
        suppressed += 1;
        continue;
      }
      entry.lastSent = condition;
      entry.lastSentAt = now;
      entry.announced = true;
      const previous = this.notified.get(condition.component);
      const inCooldown = previous !== undefined && now - previous.at < this.opts.cooldownMs;
      this.notified.delete(condition.component); // re-insert so the map stays oldest-first
      this.notified.set(condition.component, {
        // An escalation inside the cooldown does not restart it: the cooldown is about volume.
        at: inCooldown ? previous.at : now,
        severity: inCooldown && RANK[previous.severity] > RANK[condition.severity] ? previous.severity : condition.severity,
      });
      if (this.notified.size > this.maxEntries) this.dropOldest(this.notified);
      send.push({ kind: 'firing', condition, cause });
    }

    for (const [key, entry] of this.entries) {
      if (entry.lastSeenCycle === this.cycle) continue;
      if (entry.announced && entry.lastSent !== null) {
        // Not a notification: it neither waits for nor starts a cooldown, so good news is never late.
        send.push({ kind: 'resolved', condition: entry.lastSent });
        entry.announced = false;
      }
      if (now - entry.lastSeenAt >= this.retainMs) this.entries.delete(key);
    }
    for (const [component, { at }] of this.notified) {
      if (now - at >= this.opts.cooldownMs) this.notified.delete(component);
    }
    return { send, suppressed };
  }

  /** Alerts remembered (firing, or recent enough to matter for dedup and cooldown). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * One condition per family + component, the most severe (a warning and a critical rule of one
   * family holding together are one alert), ordered most severe first so that when several compete for a
   * component's cooldown the critical one is the one that goes.
   */
  private mostSevereFirst(firing: readonly Condition[]): Condition[] {
    const byKey = new Map<string, Condition>();
    for (const condition of firing) {
      const key = keyOf(condition);
      const seen = byKey.get(key);
      if (seen === undefined || RANK[condition.severity] > RANK[seen.severity]) byKey.set(key, condition);
    }
    return [...byKey.values()].sort((a, b) => RANK[b.severity] - RANK[a.severity]);
  }

  private touch(condition: Condition, now: number): Entry {
    const key = keyOf(condition);
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { lastSent: null, lastSentAt: now, announced: false, lastSeenAt: now, lastSeenCycle: 0 };
    } else {
      // Re-insert so iteration order is least recently seen first: that is who gets evicted.
      this.entries.delete(key);
    }
    entry.lastSeenAt = now;
    entry.lastSeenCycle = this.cycle;
    this.entries.set(key, entry);
    // Only reachable when more distinct alerts fire at once than the bound: losing one's memory
    // (a possible repeat, a missed "resolved") is the price of memory that cannot grow.
    if (this.entries.size > this.maxEntries) this.dropOldest(this.entries);
    return entry;
  }

  private dropOldest(map: Map<string, unknown>): void {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }

  private causeToSend(condition: Condition, entry: Entry, now: number): 'new' | 'reminder' | 'escalation' | null {
    const { lastSent } = entry;
    // Measured against what people last heard about this family + component, resolved or not:
    // a critical right after a resolved warning must not wait out a cooldown.
    if (lastSent !== null && RANK[condition.severity] > RANK[lastSent.severity]) return 'escalation';
    // The duplicate window spans one incident; after a "resolved", a new firing is news (the
    // cooldown still keeps a flapping condition from flooding).
    if (entry.announced && now - entry.lastSentAt < this.opts.duplicateWindowMs) return null;
    const notified = this.notified.get(condition.component);
    if (notified !== undefined && now - notified.at < this.opts.cooldownMs) {
      // Money is at stake: something more severe than anything said about this component in
      // the cooldown goes at once, whichever rule raises it.
      if (RANK[condition.severity] > RANK[notified.severity]) return entry.announced ? 'escalation' : 'new';
      return null;
    }
    return entry.announced ? 'reminder' : 'new';
  }

  /**
   * The wall clock stepped backwards: without this, every window and cooldown would last as long
   * as the step (an hour of silence after a DST-like jump). Pull future timestamps back to now.
   */
  private rebase(now: number): void {
    for (const entry of this.entries.values()) {
      entry.lastSentAt = Math.min(entry.lastSentAt, now);
      entry.lastSeenAt = Math.min(entry.lastSeenAt, now);
    }
    for (const [component, entry] of this.notified) {
      if (entry.at > now) this.notified.set(component, { ...entry, at: now });
    }
  }
}
