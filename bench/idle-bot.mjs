// The idle bot of the issue-#2 figure: a bot that has loaded the probe and does nothing, so what a
// preload adds (startup time, resident memory) stands out against a bare `node bot.js`.
import 'polymarket-bot-monitoring/probe';

console.log('idle bot: ready');
setInterval(() => {}, 1_000);
process.on('SIGTERM', () => process.exit(0));
