// The sink that always works: every notification, whatever Telegram does or whether it is
// configured at all, becomes one line in the plugin's (redacting) log.

import { formatLogLine } from './format.js';
import type { AlertSink, Notification, SinkLogger } from './types.js';

type Logger = { debug(message: string, meta?: Record<string, unknown>): unknown };

/**
 * One log line per notification: warn for critical and warning, debug for a routine notice (a
 * trade executed), info otherwise, with `rule`,
 * `component` (the alert's), `severity` and `kind` as fields. Writes synchronously; the logger
 * never blocks for long and this sink has nothing to retry.
 */
export function createLogSink(logger: SinkLogger & Pick<Logger, 'debug'>): AlertSink {
  return {
    name: 'log',
    deliver(n: Notification): void {
      try {
        const meta = {
          component: n.component,
          rule: n.rule,
          severity: n.severity,
          kind: n.kind,
          alert: true,
          ...(n.trace ? { trace_id: n.trace.traceId, span_id: n.trace.spanId } : {}),
        };
        const line = formatLogLine(n);
        if (n.severity === 'critical' || n.severity === 'warning') logger.warn(line, meta);
        else if (n.routine) logger.debug(line, meta);
        else logger.info(line, meta);
      } catch {
        // A failing transport loses the line, never the evaluator that reported it.
      }
    },
    drain: () => Promise.resolve(),
    close: () => {},
  };
}
