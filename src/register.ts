/**
 * The preload: `node --import polymarket-bot-monitoring/register bot.js`.
 *
 * Runs before the bot's first line. Nothing escapes from here into the bot: the heavy modules
 * are imported dynamically inside the try, so even a broken install ends as one log line
 * ("monitoring disabled: …") and the bot runs on unmonitored.
 */
import { loadConfig } from './core/config.js';

/** sysexits' EX_CONFIG: systemd's RestartPreventExitStatus can tell it from a crash. */
const EXIT_CONFIG = 78;

function disabledByEnv(): boolean {
  try {
    return !loadConfig(process.env).config.enabled;
  } catch {
    return false; // invalid config: startMonitoring reports it properly
  }
}

if (!disabledByEnv()) {
  try {
    const { startMonitoring } = await import('./plugin/monitor.js');
    await startMonitoring();
  } catch (error) {
    const { ConfigError } = await import('./core/config.js');
    if (error instanceof ConfigError) {
      // Only MONITORING_STRICT=true lets a config error through: the operator asked for fatal.
      process.stderr.write(`monitoring: ${error.message} (MONITORING_STRICT=true: refusing to start the bot)\n`);
      process.exit(EXIT_CONFIG);
    }
    try {
      process.stderr.write(`monitoring disabled: ${error instanceof Error ? error.message : String(error)}\n`);
    } catch {
      // stderr closed: nothing left to tell, and nothing may reach the bot.
    }
  }
}
