// Baseline preload for section 2b: the libraries the plugin loads (the same packages dist/ imports
// when no OTLP is configured), imported and never started — no provider, no reader, no server,
// no timer. What a bot's event loop pays for carrying the code and its heap, before any of it runs.
await Promise.all([
  import('@opentelemetry/api'),
  import('@opentelemetry/core'),
  import('@opentelemetry/resources'),
  import('@opentelemetry/sdk-metrics'),
  import('@opentelemetry/sdk-trace'),
  import('@opentelemetry/exporter-prometheus'),
  import('@opentelemetry/host-metrics'),
  import('winston'),
]);
