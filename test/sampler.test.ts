import { describe, expect, it } from 'vitest';
import { SystemSampler, type SystemReadings } from '../src/state/system-sampler.js';

function fakeReadings(): SystemReadings & { cpu: { idle: number; total: number } | undefined; free: number } {
  return {
    cpu: { idle: 0, total: 0 },
    free: 600,
    cpuTimes() {
      return this.cpu;
    },
    totalMemory: () => 1000,
    freeMemory() {
      return this.free;
    },
    rss: () => 42,
    now: () => 5,
  };
}

describe('SystemSampler', () => {
  it('computes CPU over the window since the previous sample', () => {
    const readings = fakeReadings();
    const sampler = new SystemSampler(readings);
    readings.cpu = { idle: 250, total: 1000 };
    expect(sampler.sample().cpuPercent).toBe(75);
    readings.cpu = { idle: 1250, total: 2000 };
    expect(sampler.sample().cpuPercent).toBe(0);
  });

  it('keeps the last CPU value when no clock tick elapsed, instead of reporting NaN', () => {
    const readings = fakeReadings();
    const sampler = new SystemSampler(readings);
    readings.cpu = { idle: 500, total: 1000 };
    sampler.sample();
    expect(sampler.sample().cpuPercent).toBe(50);
  });

  it('reports 0 rather than NaN when the host hides CPU times', () => {
    const readings = fakeReadings();
    readings.cpu = undefined;
    const sample = new SystemSampler(readings).sample();
    expect(sample.cpuPercent).toBe(0);
  });

  it('reports memory in use as a share of the total', () => {
    const readings = fakeReadings();
    const sampler = new SystemSampler(readings);
    expect(sampler.sample()).toMatchObject({ memoryPercent: 40, rssBytes: 42, totalMemoryBytes: 1000 });
    readings.free = 1500; // a reading above the total must not go negative
    expect(sampler.sample().memoryPercent).toBe(0);
  });

  it('exposes the last sample without taking a new one', () => {
    const readings = fakeReadings();
    const sampler = new SystemSampler(readings);
    readings.cpu = { idle: 100, total: 1000 };
    sampler.sample();
    readings.cpu = { idle: 1100, total: 2000 };
    expect(sampler.last.cpuPercent).toBe(90);
  });
});
