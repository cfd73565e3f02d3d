/**
 * System and process readings for the gauges and the monitoring circuit breaker.
 *
 * CPU utilisation is a delta between two readings, so whoever samples owns the baseline.
 * This sampler is the plugin's own: host-metrics keeps one baseline shared by every reader,
 * so a Prometheus scrape would shorten the breaker's window and skew its reading.
 */
import os from 'node:os';

export interface SystemSample {
  /** System-wide CPU utilisation over the window since the previous sample, 0–100. */
  readonly cpuPercent: number;
  /** Length of that window, ms (0 for the reading taken at construction). */
  readonly cpuWindowMs: number;
  /** System memory in use (total − available), 0–100. */
  readonly memoryPercent: number;
  /** Resident set size of this process. */
  readonly rssBytes: number;
  readonly totalMemoryBytes: number;
  /** Wall-clock milliseconds when the sample was taken. */
  readonly at: number;
}

export interface CpuTimes {
  readonly idle: number;
  readonly total: number;
}

/** What the sampler reads; injectable so tests drive it with made-up readings. */
export interface SystemReadings {
  cpuTimes(): CpuTimes | undefined;
  totalMemory(): number;
  freeMemory(): number;
  rss(): number;
  now(): number;
}

export const osReadings: SystemReadings = {
  cpuTimes() {
    const cpus = os.cpus();
    if (cpus.length === 0) return undefined; // some sandboxes hide /proc/stat
    let idle = 0;
    let total = 0;
    for (const { times } of cpus) {
      idle += times.idle;
      total += times.user + times.nice + times.sys + times.idle + times.irq;
    }
    return { idle, total };
  },
  totalMemory: () => os.totalmem(),
  freeMemory: () => os.freemem(),
  rss: () => process.memoryUsage.rss(),
  now: () => Date.now(),
};

const clampPercent = (value: number): number =>
  Number.isFinite(value) ? Math.min(100, Math.max(0, value)) : 0;

export class SystemSampler {
  private baseline: CpuTimes | undefined;
  private baselineAt: number;
  private lastCpuPercent = 0;
  private latest: SystemSample;

  constructor(private readonly readings: SystemReadings = osReadings) {
    this.baseline = readings.cpuTimes();
    this.baselineAt = readings.now();
    this.latest = this.read(0, 0);
  }

  /** Takes a new reading; CPU covers the time since the previous call. */
  sample(): SystemSample {
    const current = this.readings.cpuTimes();
    if (current && this.baseline) {
      const total = current.total - this.baseline.total;
      const idle = current.idle - this.baseline.idle;
      // With no tick elapsed (two samples inside the clock's 10 ms resolution) keep the last value.
      if (total > 0) this.lastCpuPercent = clampPercent(100 * (1 - idle / total));
    }
    const at = this.readings.now();
    const windowMs = Math.max(0, at - this.baselineAt);
    this.baseline = current ?? this.baseline;
    this.baselineAt = at;
    this.latest = this.read(this.lastCpuPercent, windowMs);
    return this.latest;
  }

  /** The most recent sample, without taking a new one (what gauges and /health read). */
  get last(): SystemSample {
    return this.latest;
  }

  private read(cpuPercent: number, cpuWindowMs: number): SystemSample {
    const total = this.readings.totalMemory();
    const free = this.readings.freeMemory();
    return {
      cpuPercent,
      cpuWindowMs,
      memoryPercent: total > 0 ? clampPercent((100 * (total - free)) / total) : 0,
      rssBytes: Math.max(0, this.readings.rss()),
      totalMemoryBytes: total,
      at: this.readings.now(),
    };
  }
}
