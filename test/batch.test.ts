/**
 * Measurements handed to the instruments in batches: never on the caller's stack, always before a
 * collection reads the instruments, at once when too many wait, and a failing sink loses only
 * its own measurement.
 */
import type { Attributes } from '@opentelemetry/api';
import { MeterProvider, type HistogramMetricData } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { MeasurementBatch } from '../src/metrics/batch.js';
import { METRICS } from '../src/metrics/catalog.js';
import { MAX_SERIES_PER_INSTRUMENT, createInstruments } from '../src/metrics/instruments.js';
import { createKeptMeter } from '../src/metrics/kept.js';
import { TestReader } from './support/metrics.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const providers: MeterProvider[] = [];
afterEach(async () => {
  for (const p of providers.splice(0)) await p.shutdown();
});

/** The catalog's instruments, kept as the plugin keeps them, read by a reader whose collections start by flushing `batch`. */
function instrumentsFlushing(batch: MeasurementBatch) {
  const kept = createKeptMeter({ scope: { name: 'test' }, cardinalityLimit: MAX_SERIES_PER_INSTRUMENT, beforeCollect: batch.flush });
  const reader = new TestReader({ metricProducers: [kept.producer()] });
  const provider = new MeterProvider({ readers: [reader] });
  providers.push(provider);
  const instruments = createInstruments(kept.meter);
  const collected = async (name: string) =>
    (await reader.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
  return { ...instruments, collected };
}

describe('MeasurementBatch', () => {
  it('keeps measurements off the caller’s stack until flushed, then hands them over in order', async () => {
    const seen: [number, Attributes][] = [];
    const batch = new MeasurementBatch(() => {});
    const a = { outcome: 'success' };
    const b = { outcome: 'error' };
    batch.push((v, attrs) => seen.push([v, attrs]), 0.25, a);
    batch.push((v, attrs) => seen.push([v * 10, attrs]), 0.5, b);
    await nextTurn(); // no timer of its own: nothing happens until a collection or the limit
    expect(seen).toEqual([]);
    expect(batch.pending).toBe(2);
    batch.flush();
    expect(seen).toEqual([
      [0.25, a],
      [5, b],
    ]);
    expect(batch.pending).toBe(0);
  });

  it('hands them over on the next turn once the limit is reached, not on the call that reached it', async () => {
    let n = 0;
    const batch = new MeasurementBatch(() => {}, 3);
    const sink = () => void n++;
    batch.push(sink, 1, {});
    batch.push(sink, 1, {});
    batch.push(sink, 1, {});
    batch.push(sink, 1, {});
    expect(n).toBe(0);
    expect(batch.pending).toBe(4);
    await nextTurn();
    expect(n).toBe(4);
    expect(batch.pending).toBe(0);
    // And again for the next batch: the hand-over is scheduled anew each time.
    for (let i = 0; i < 3; i++) batch.push(sink, 1, {});
    await nextTurn();
    expect(n).toBe(7);
  });

  it('hands them over at once at the hard limit, for a caller that never lets the loop turn', () => {
    let n = 0;
    const batch = new MeasurementBatch(() => {}, 3, 6);
    const sink = () => void n++;
    for (let i = 0; i < 5; i++) batch.push(sink, 1, {});
    expect(n).toBe(0);
    batch.push(sink, 1, {});
    expect(n).toBe(6);
    expect(batch.pending).toBe(0);
  });

  it('never keeps the process alive while a hand-over waits', async () => {
    const batch = new MeasurementBatch(() => {}, 1);
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Immediate').length;
    batch.push(() => {}, 1, {});
    const refed = process.getActiveResourcesInfo().filter((r) => r === 'Immediate').length;
    expect(refed).toBe(before); // unref'd immediates are not active resources
    await nextTurn();
    expect(batch.pending).toBe(0);
  });

  it('loses only the measurement whose sink throws, and reports it', async () => {
    const errors: unknown[] = [];
    const seen: number[] = [];
    const batch = new MeasurementBatch((error) => errors.push(error));
    batch.push((v) => seen.push(v), 1, {});
    batch.push(() => {
      throw new Error('storage gone');
    }, 2, {});
    batch.push((v) => seen.push(v), 3, {});
    batch.flush();
    expect(seen).toEqual([1, 3]);
    expect(errors).toEqual([new Error('storage gone')]);
    expect(batch.pending).toBe(0);
  });

  it('sums a counter\'s measurements per series while they wait: one sink call per series per hand-over', () => {
    const calls: [number, Attributes][] = [];
    const sink = (v: number, attrs: Attributes) => void calls.push([v, attrs]);
    const ok = { api: 'clob', outcome: 'success' };
    const failed = { api: 'clob', outcome: 'failure' };
    const batch = new MeasurementBatch(() => {});
    batch.add(sink, 0, failed);
    for (let i = 0; i < 125; i++) batch.add(sink, 1, ok);
    batch.add(sink, 1, failed);
    batch.add(sink, 2, failed);
    expect(calls).toEqual([]);
    batch.flush();
    expect(calls).toEqual([
      [3, failed],
      [125, ok],
    ]);
    // Handed over means gone: the next hand-over starts from zero, and a series with nothing new is not called.
    batch.add(sink, 1, ok);
    batch.flush();
    expect(calls.slice(2)).toEqual([[1, ok]]);
  });

  it('keeps a counter\'s series apart by sink, and loses only the sum whose sink throws', () => {
    const errors: unknown[] = [];
    const a: number[] = [];
    const series = { outcome: 'success' };
    const batch = new MeasurementBatch((error) => errors.push(error));
    const first = (v: number) => void a.push(v);
    const second = (v: number) => void a.push(v * 100);
    batch.add(first, 2, series);
    batch.add(() => {
      throw new Error('storage gone');
    }, 5, series);
    batch.add(second, 1, series);
    batch.add(first, 3, series);
    batch.flush();
    // The same attributes object under three sinks is three sums.
    expect(a).toEqual([5, 100]);
    expect(errors).toEqual([new Error('storage gone')]);
  });

  it('hands a counter\'s sum to the SDK before a collection reads it', async () => {
    const batch = new MeasurementBatch(() => {});
    const { counters, collected } = instrumentsFlushing(batch);
    const attrs = { api: 'clob', outcome: 'success' };
    for (let i = 0; i < 7; i++) batch.add((v, at) => counters.apiRequests.add(v, at), 1, attrs);

    const metric = await collected(METRICS.apiRequests.name);
    expect(metric?.dataPoints).toHaveLength(1);
    expect(metric?.dataPoints[0]?.value).toBe(7);
    expect(metric?.dataPoints[0]?.attributes).toEqual(attrs);
  });

  it('is emptied by a collection that starts before the next turn', async () => {
    const batch = new MeasurementBatch(() => {});
    const { histograms, collected } = instrumentsFlushing(batch);
    const scans = histograms.walletScanDuration;
    batch.push((v, attrs) => scans.record(v, attrs), 0.25, { outcome: 'success' });
    expect(batch.pending).toBe(1);

    const metric = await collected(METRICS.walletScanDuration.name);
    const point = (metric as HistogramMetricData | undefined)?.dataPoints[0];
    expect(point?.value.count).toBe(1);
    expect(point?.value.sum).toBe(0.25);
    expect(batch.pending).toBe(0);
  });
});
