/** The probe: what a bot calls to report its scans, trades and state (see ingest/probe.ts). */
export * from './ingest/probe.js';
