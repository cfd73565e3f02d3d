/**
 * Routes notifications to the sinks: the log sink receives every one; Telegram receives those
 * its ALERT_ON_* setting lets through (`silent` without sound), when alerting is enabled and a
 * bot token is configured. Never throws, never waits.
 */
import type { NotifyMode } from '../core/config.js';
import type { AlertSink, Notification } from './types.js';

export type Draft = Omit<Notification, 'silent' | 'at'>;

export class Notifier {
  constructor(
    private readonly sinks: { readonly log: AlertSink; readonly telegram?: AlertSink | undefined },
    private readonly alertsEnabled: boolean,
    private readonly now: () => number,
  ) {}

  notify(draft: Draft, mode: NotifyMode): void {
    const notification: Notification = { ...draft, silent: mode === 'silent', at: this.now() };
    this.sinks.log.deliver(notification);
    if (this.alertsEnabled && mode !== 'off') this.sinks.telegram?.deliver(notification);
  }

  async drain(timeoutMs: number): Promise<void> {
    await this.sinks.telegram?.drain(timeoutMs);
  }

  close(): void {
    this.sinks.telegram?.close();
    this.sinks.log.close();
  }
}
