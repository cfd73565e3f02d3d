import { describe, expect, it } from 'vitest';
import { FAILURE_OUTCOMES, OUTCOMES, isFailure } from '../src/core/model.js';
import { clobCancelOutcome, clobOrderOutcome, mappedOutcome, outcomeOf, outcomeOfError, scanOutcomeOf } from '../src/ingest/outcome.js';

// Response shapes of @polymarket/clob-client 5.x, as its http-helpers and the CLOB return them
// (written out by hand from the client's source and Polymarket's docs, not from our table).
describe('what a CLOB client response means', () => {
  it.each([
    ['a fill', { success: true, errorMsg: '', orderID: '0xabc', status: 'matched', takingAmount: '10', makingAmount: '5' }, 'filled'],
    ['an order resting on the book', { success: true, errorMsg: '', orderID: '0xabc', status: 'live' }, 'resting'],
    ['a delayed order', { success: true, errorMsg: '', orderID: '0xabc', status: 'delayed' }, 'delayed'],
    ['a marketable order that found no match', { success: true, errorMsg: '', orderID: '0xabc', status: 'unmatched' }, 'unfilled'],
    ['an order the CLOB refused', { success: false, errorMsg: 'not enough balance / allowance', orderID: '', status: '' }, 'rejected'],
    ['HTTP 400 returned as a value', { error: 'invalid order payload', status: 400 }, 'rejected'],
    ['HTTP 401 returned as a value', { error: 'Unauthorized/Invalid api key', status: 401 }, 'rejected'],
    ['HTTP 429 returned as a value', { error: 'Too Many Requests', status: 429 }, 'failed'],
    ['HTTP 425 while the matching engine restarts', { error: 'Too Early', status: 425 }, 'failed'],
    ['a 500 with no body (axios keeps the status only in its message)', { error: 'Request failed with status code 500' }, 'failed'],
    ['a killed FOK order (HTTP 400)', { error: "order couldn't be fully filled. FOK orders are fully filled or killed.", status: 400 }, 'unfilled'],
    ['a FAK order that found nothing', { error: 'no orders found to match with FAK order. FAK orders are partially filled or killed if no match is found.', status: 400 }, 'unfilled'],
    ['HTTP 500 returned as a value', { error: 'Internal Server Error', status: 500 }, 'failed'],
    ['HTTP 503 with a JSON error body', { error: { message: 'maintenance' }, status: 503 }, 'failed'],
    ['a network error returned as a value', { error: 'connect ECONNREFUSED 127.0.0.1:1' }, 'error'],
    ['a dropped connection returned as a value', { error: 'socket hang up' }, 'error'],
    ['a cancel that went through', { canceled: ['0xabc', '0xdef'], not_canceled: {} }, 'success'],
    ['a cancel of nothing', { canceled: [], not_canceled: {} }, 'success'],
    ['a cancel of an order already gone', { canceled: [], not_canceled: { '0xabc': "order can't be found - already canceled or matched" } }, 'success'],
    ['a cancel the CLOB refused', { canceled: [], not_canceled: { '0xabc': 'market is in cancel-only mode... no, closed' } }, 'rejected'],
    ['a batch all filled', [{ success: true, status: 'matched' }, { success: true, status: 'matched' }], 'filled'],
    ['a batch with one refusal', [{ success: true, status: 'matched' }, { success: false, errorMsg: 'min size' }], 'rejected'],
    ['a batch half resting', [{ success: true, status: 'matched' }, { success: true, status: 'live' }], 'resting'],
  ])('%s is %s', (_what, response, outcome) => {
    expect(outcomeOf(response)).toBe(outcome);
    // The instrumented client reads its own answers the same way.
    const strict = Array.isArray(response) || !('canceled' in response) ? clobOrderOutcome(response) : clobCancelOutcome(response);
    expect(strict).toBe(outcome);
  });

  it.each([
    ['an HTML page answered with 200', '<html>maintenance</html>'],
    ['an empty 200', ''],
    ['an empty object', {}],
    ['success without a status the CLOB documents', { success: true, status: '' }],
    ['a status word the CLOB does not use', { success: true, status: 'FILLED' }],
  ])('reads an order call that returned %s as other: nothing says the order was placed', (_what, response) => {
    expect(clobOrderOutcome(response)).toBe('other');
  });

  it('reads an order answer with an error message and no status as rejected: the order was not placed', () => {
    expect(clobOrderOutcome({ success: true, errorMsg: 'could not insert order' })).toBe('rejected');
  });

  it('reads a cancel call that returned something else than its shape as other', () => {
    expect(clobCancelOutcome({ success: true })).toBe('other');
    expect(clobCancelOutcome('OK')).toBe('other');
  });

  it('never reads a failed or refused order as a success, whatever status word stands beside it', () => {
    const failures = [
      { error: 'x', status: 500, success: true },
      { error: 'x', status: 'matched' },
      { success: false, status: 'matched' },
      { success: false, status: 'live' },
      [{ status: 'matched' }, { error: 'x', status: 502 }],
    ];
    for (const response of failures) expect(isFailure(outcomeOf(response)), JSON.stringify(response)).toBe(true);
  });
});

describe('what a thrown value means', () => {
  class ApiError extends Error {
    constructor(
      message: string,
      readonly status?: number,
    ) {
      super(message);
    }
  }

  it.each([
    ['the client’s ApiError for a 400 (throwOnError)', new ApiError('invalid order', 400), 'rejected'],
    ['the client’s ApiError for a 429', new ApiError('Too Many Requests', 429), 'failed'],
    ['the client’s ApiError for a 502', new ApiError('Bad Gateway', 502), 'failed'],
    ['the client’s ApiError for a network error (no status)', new ApiError('socket hang up'), 'error'],
    ['the client’s ApiError for a killed FOK order', new ApiError("order couldn't be fully filled. FOK orders are fully filled or killed.", 400), 'unfilled'],
    ['the client’s ApiError for a 425', new ApiError('Too Early', 425), 'failed'],
    ['an axios error with a response', Object.assign(new Error('Request failed with status code 503'), { response: { status: 503 } }), 'failed'],
    ['a plain Error', new Error('unsupported signer type'), 'error'],
    ['a thrown string', 'boom', 'error'],
    ['null', null, 'error'],
  ])('%s is %s', (_what, thrown, outcome) => {
    expect(outcomeOfError(thrown)).toBe(outcome);
  });

  it('reads a thrown value whose getters throw as error, without throwing', () => {
    const hostile = {
      get status(): never {
        throw new Error('getter');
      },
    };
    expect(outcomeOfError(hostile)).toBe('error');
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(outcomeOfError(proxy)).toBe('error');
  });
});

describe("a bot's own results", () => {
  it.each([
    [undefined, 'success'],
    ['order-id-1', 'success'],
    [{ trades: 3 }, 'success'],
    [{ status: 'FILLED' }, 'filled'],
    [{ outcome: 'skipped' }, 'skipped'],
    [{ status: 'expired' }, 'unfilled'],
    [{ status: 'placed' }, 'resting'],
    [{ status: 'exploded-gently' }, 'other'],
    // A market's outcome ("Yes") is not an outcome word: the status beside it decides.
    [{ outcome: 'Yes', status: 'failed' }, 'failed'],
    [{ outcome: 'No', status: 'rejected' }, 'rejected'],
    [{ outcome: 'Yes' }, 'success'],
  ])('%j is %s', (result, outcome) => {
    expect(outcomeOf(result)).toBe(outcome);
  });

  it.each([
    ['the wallet\'s trades, whose outcome is a market side', [{ side: 'BUY', outcome: 'Yes', type: 'TRADE' }], 'success'],
    ['CLOB trades with their own statuses', [{ status: 'MATCHED' }, { status: 'FAILED' }], 'success'],
    ['nothing new', [], 'success'],
    ['a status word', { status: 'skipped' }, 'skipped'],
    ['an unknown status word', { status: 'exploded' }, 'other'],
    ['an HTTP status, which is the bot\'s data', { status: 404 }, 'success'],
  ])('reads a scan that returned %s as %s: only its own status word counts', (_what, result, outcome) => {
    expect(scanOutcomeOf(result)).toBe(outcome);
  });

  it('reads a result monitoring cannot read as other, without throwing', () => {
    const hostile = {
      get error(): never {
        throw new Error('getter');
      },
    };
    expect(outcomeOf(hostile)).toBe('other');
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(outcomeOf(proxy)).toBe('other');
  });

  it('reads only the head of a huge batch', () => {
    const batch = new Array(1_000_000).fill({ status: 'matched' });
    batch[999_999] = { error: 'x', status: 500 };
    expect(outcomeOf(batch)).toBe('filled');
  });

  it("takes the bot's mapper word when it is an outcome, and other when it is not or throws", () => {
    expect(mappedOutcome((r) => ((r as { ok: boolean }).ok ? 'filled' : 'rejected'), { ok: false })).toBe('rejected');
    expect(mappedOutcome(() => 'MATCHED', {})).toBe('filled');
    expect(mappedOutcome(() => 'teleported', {})).toBe('other');
    expect(mappedOutcome(() => 42, {})).toBe('other');
    expect(
      mappedOutcome(() => {
        throw new Error('bad mapper');
      }, {}),
    ).toBe('other');
  });
});

describe('the outcome vocabulary', () => {
  it('counts exactly refused, invalid, failed and errored operations as failures', () => {
    expect([...FAILURE_OUTCOMES].sort()).toEqual(['error', 'failed', 'invalid', 'rejected']);
    expect(OUTCOMES.filter((o) => isFailure(o)).sort()).toEqual(['error', 'failed', 'invalid', 'rejected']);
  });
});
