import { describe, expect, it } from 'vitest';
import { API_WINDOW_MS, ApiHealth, MAX_APIS, apiLabel } from '../src/state/api-health.js';

// A multiple of the 30-second bucket, so "t0" is the first millisecond of a bucket.
const T0 = 1_800_000_000_000;
const SECOND = 1000;
const MINUTE = 60 * SECOND;

function setup() {
  const clock = { t: T0 };
  const health = new ApiHealth(() => clock.t);
  return { clock, health, at: (ms: number) => (clock.t = T0 + ms) };
}

function calls(health: ApiHealth, api: string, ok: number, failed: number): void {
  for (let i = 0; i < ok; i++) health.record(api, true);
  for (let i = 0; i < failed; i++) health.record(api, false);
}

describe('ApiHealth success ratio', () => {
  it('is the share of successful calls', () => {
    const { health } = setup();
    calls(health, 'clob', 3, 1);
    expect(health.successRatio('clob')).toBe(0.75);
  });

  it('is undefined for an api with no calls', () => {
    const { health } = setup();
    expect(health.successRatio('clob')).toBeUndefined();
  });

  it('keeps apis apart', () => {
    const { health } = setup();
    calls(health, 'clob', 1, 0);
    calls(health, 'gamma', 0, 1);
    expect(health.successRatio('clob')).toBe(1);
    expect(health.successRatio('gamma')).toBe(0);
  });

  it('counts every call made within the last 5 minutes', () => {
    const { health, at } = setup();
    // One call every 30 s for 5 minutes: 10 buckets, all still in the window at the end.
    for (let i = 0; i < 10; i++) {
      at(i * 30 * SECOND);
      health.record('clob', i === 0);
    }
    at(5 * MINUTE - 1);
    expect(health.successRatio('clob')).toBe(0.1);
  });

  it('lets a call drop out once its 30-second bucket lies wholly before the window', () => {
    const { health, at } = setup();
    health.record('clob', false);
    at(API_WINDOW_MS + 30 * SECOND - 1);
    expect(health.successRatio('clob')).toBe(0);
    at(API_WINDOW_MS + 30 * SECOND);
    expect(health.successRatio('clob')).toBeUndefined();
  });

  it('forgets old failures while keeping recent successes', () => {
    const { health, at } = setup();
    calls(health, 'clob', 0, 5);
    at(4 * MINUTE);
    calls(health, 'clob', 2, 0);
    at(6 * MINUTE);
    expect(health.successRatio('clob')).toBe(1);
  });

  it('does not count a bucket again when the ring comes round to its slot', () => {
    const { health, at } = setup();
    calls(health, 'clob', 0, 4);
    // The same slot of the ring, one full window later: the old counts must be replaced.
    at(API_WINDOW_MS);
    calls(health, 'clob', 1, 0);
    expect(health.successRatio('clob')).toBe(1);
  });
});

describe('ApiHealth consecutive failures', () => {
  it('counts failures in a row', () => {
    const { health } = setup();
    calls(health, 'clob', 0, 3);
    expect(health.consecutiveFailures('clob')).toBe(3);
  });

  it('resets to 0 on a success', () => {
    const { health } = setup();
    calls(health, 'clob', 0, 3);
    health.record('clob', true);
    expect(health.consecutiveFailures('clob')).toBe(0);
    health.record('clob', false);
    expect(health.consecutiveFailures('clob')).toBe(1);
  });

  it('is 0 for an api never seen', () => {
    const { health } = setup();
    expect(health.consecutiveFailures('gamma')).toBe(0);
  });

  it('does not expire with the window: a run of failures lasts until a success', () => {
    const { health, at } = setup();
    calls(health, 'clob', 0, 2);
    at(60 * MINUTE);
    expect(health.consecutiveFailures('clob')).toBe(2);
  });
});

describe('ApiHealth bounded names', () => {
  it(`tracks ${MAX_APIS} names and folds every further one into other`, () => {
    const { health } = setup();
    const labels = Array.from({ length: MAX_APIS + 5 }, (_, i) => health.record(`api_${i}`, true));
    expect(labels.slice(0, MAX_APIS)).toEqual(Array.from({ length: MAX_APIS }, (_, i) => `api_${i}`));
    expect(labels.slice(MAX_APIS)).toEqual(Array(5).fill('other'));
    expect([...health.apis()]).toHaveLength(MAX_APIS + 1);
  });

  it('keeps the reserved names (clob, configured APIs) out of other, whatever the bot reported first', () => {
    const { health } = setup();
    health.reserve(['clob', 'gamma']);
    for (let i = 0; i < 40; i++) health.record(`bot_${i}`, true);
    expect(health.record('clob', false)).toBe('clob');
    expect(health.record('gamma', true)).toBe('gamma');
    // 20 names in all: the bot's free text shares what the two reserved leave.
    const own = [...health.apis()].filter((name) => name.startsWith('bot_'));
    expect(own).toHaveLength(18);
    expect(health.record('bot_39', true)).toBe('other');
  });

  it('still counts a name tracked before the cap under its own label', () => {
    const { health } = setup();
    for (let i = 0; i < MAX_APIS + 3; i++) health.record(`api_${i}`, true);
    expect(health.record('api_0', false)).toBe('api_0');
    expect(health.successRatio('api_0')).toBe(0.5);
  });

  it('adds the folded calls up under other', () => {
    const { health } = setup();
    for (let i = 0; i < MAX_APIS; i++) health.record(`api_${i}`, true);
    health.record('late_one', true);
    health.record('late_two', false);
    expect(health.successRatio('other')).toBe(0.5);
    expect(health.successRatio('late_one')).toBeUndefined();
  });
});

describe('apiLabel', () => {
  it.each([
    ['clob', 'clob'],
    ['CLOB', 'clob'],
    ['  Gamma ', 'gamma'],
    ['data-api', 'data_api'],
    ['polygon.rpc', 'polygon_rpc'],
    ['data api', 'data_api'],
    ['data--api', 'data_api'],
    ['a'.repeat(32), 'a'.repeat(32)],
  ])('%j → %j', (raw, label) => {
    expect(apiLabel(raw)).toBe(label);
  });

  it.each([
    ['longer than 32 characters', 'a'.repeat(33)],
    ['a leading digit', '1inch'],
    ['a leading underscore', '_clob'],
    ['empty', ''],
    ['a URL', 'https://clob.polymarket.com/order'],
    ['a slash', 'clob/orders'],
    ['a colon, like a bot token', '7412589630:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ'],
  ])('is other for a name with %s', (_why, raw) => {
    expect(apiLabel(raw)).toBe('other');
  });

  it.each([undefined, null, 42, { api: 'clob' }, ['clob'], true])('is other for the non-string %j', (raw) => {
    expect(apiLabel(raw)).toBe('other');
  });
});
