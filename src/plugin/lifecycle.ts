/**
 * Exit hooks. The plugin flushes telemetry when the bot ends, within a bound, and never changes
 * how the bot ends: a bot without signal handlers still dies of SIGTERM/SIGINT (exit 143/130),
 * one with handlers keeps them in charge, and a bot that ends normally is not kept alive.
 */

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * How long a bot without signal handlers of its own lives on after SIGTERM/SIGINT so the plugin
 * can push out what is pending. Unmonitored it would die at once, and every moment it lives on it
 * may still trade: the bound is the plugin's, not MONITORING_SHUTDOWN_TIMEOUT_MS, so no slow
 * Telegram or collector can stretch it. 250 ms keeps the whole exit under 300 ms.
 */
export const SIGNAL_EXIT_BOUND_MS = 250;

export interface ExitHooks {
  remove(): void;
}

/**
 * Runs `flush` at most once, and resolves after at most `timeoutMs` whatever it does.
 * `keepAlive` decides whether the bound's timer holds the event loop open: it must while a
 * signal is pending re-raise, and must not when the bot is ending on its own.
 */
function bounded(
  flush: () => Promise<void>,
  timeoutMs: number,
  keepAlive: boolean,
  onTimeout: () => void = () => {},
): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      onTimeout();
      resolve();
    }, timeoutMs);
    if (!keepAlive) timer.unref();
    flush().then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}

export interface ExitActions {
  /** Ends monitoring: flushes telemetry and alerts, closes servers. */
  readonly shutdown: () => Promise<void>;
  /** Pushes out what is pending (spans, metrics, alerts) and keeps monitoring running. */
  readonly flush: () => Promise<void>;
  /**
   * The process is about to die of a signal with the shutdown still running: synchronously write
   * to the log what will not be delivered.
   */
  readonly abandon?: (signal: NodeJS.Signals) => void;
}

export function installExitHooks(actions: ExitActions, timeoutMs: number, signalBoundMs = SIGNAL_EXIT_BOUND_MS): ExitHooks {
  let shutDown: Promise<void> | undefined;
  const shutdownOnce = (onTimeout?: () => void): Promise<void> =>
    (shutDown ??= bounded(actions.shutdown, timeoutMs, true, onTimeout));

  const onBeforeExit = (): void => {
    // beforeExit means the bot has nothing left to do. The bound's timer holds the loop open only
    // as long as the flush runs, at most timeoutMs; if it fires, only our own work (an alert or an
    // export still in flight) is left: end the process with whatever exit code the bot set.
    void shutdownOnce(() => process.exit());
  };
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const signal of SIGNALS) {
    const handler = (): void => {
      const botHandlesIt = process.listeners(signal).some((listener) => listener !== handler);
      if (botHandlesIt) {
        // The bot decides when and how to exit, and may trade on while it drains: stay
        // monitored, push out what is pending in case it exits abruptly.
        void bounded(actions.flush, timeoutMs, false);
        return;
      }
      // Without us Node would die of this signal now: flush for a moment, then die of it all the same.
      process.removeListener(signal, handler);
      const abandon = (): void => {
        try {
          actions.abandon?.(signal);
        } catch {
          // The process dies next whatever this did.
        }
      };
      // Its own bound, whether or not a shutdown (at beforeExit, or the bot's call) already runs.
      void bounded(() => shutdownOnce(), Math.min(timeoutMs, signalBoundMs), true, abandon).then(() =>
        process.kill(process.pid, signal),
      );
    };
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  process.on('beforeExit', onBeforeExit);

  return {
    remove() {
      process.removeListener('beforeExit', onBeforeExit);
      for (const [signal, handler] of handlers) process.removeListener(signal, handler);
    },
  };
}
