/**
 * What a scan's or a trade's result means, in a trader's words: the one table from every response
 * shape of the official CLOB client (and the words a bot's own results may carry) to an outcome.
 * The README's outcome table names these outcomes and words (test/readme.test.ts checks it does).
 *
 * The client does not throw by default: a refused order comes back as `{ success: false,
 * errorMsg }` and an HTTP error as `{ error, status }`, both ordinary return values. Reading only
 * "did it throw" would count every failed order as a success, so the shape decides, and a failure
 * is never read as a success: an `error` field outranks any status word beside it.
 *
 * Results are the bot's values, read on its call: every read is guarded (a throwing getter or a
 * revoked Proxy is `other`), nothing is called, arrays are read only as far as MAX_ITEMS.
 */
import { OUTCOMES, type Outcome } from '../core/model.js';

/** Status or outcome words a result may carry, lower-cased, and what each means. */
export const OUTCOME_WORDS: Readonly<Record<string, Outcome>> = {
  // Polymarket's order statuses, as POST /order answers them.
  matched: 'filled',
  live: 'resting',
  delayed: 'delayed',
  unmatched: 'unfilled',
  // A bot's own words.
  filled: 'filled',
  executed: 'filled',
  resting: 'resting',
  placed: 'resting',
  open: 'resting',
  unfilled: 'unfilled',
  killed: 'unfilled',
  cancelled: 'unfilled',
  canceled: 'unfilled',
  expired: 'unfilled',
  success: 'success',
  succeeded: 'success',
  ok: 'success',
  completed: 'success',
  done: 'success',
  skipped: 'skipped',
  skip: 'skipped',
  ignored: 'skipped',
  noop: 'skipped',
  rejected: 'rejected',
  denied: 'rejected',
  refused: 'rejected',
  invalid: 'invalid',
  failed: 'failed',
  failure: 'failed',
  error: 'error',
  errored: 'error',
  other: 'other',
};

/** For a batch (an array of results): its worst outcome, most severe first. */
const SEVERITY: readonly Outcome[] = ['error', 'failed', 'rejected', 'invalid', 'other', 'unfilled', 'delayed', 'resting', 'filled', 'success', 'skipped'];
const RANK = new Map(SEVERITY.map((outcome, i) => [outcome, i]));
/** A batch of orders is at most 15 (the CLOB's limit); a longer array is not read past this. */
const MAX_ITEMS = 64;
const KNOWN = new Set<string>(OUTCOMES);

type Fields = {
  error?: unknown;
  errorMsg?: unknown;
  success?: unknown;
  status?: unknown;
  outcome?: unknown;
  canceled?: unknown;
  not_canceled?: unknown;
};

/**
 * The HTTP statuses that mean the API itself failed rather than refused the bot's request:
 * 408 (timeout), 425 (too early: the CLOB answers it on every order endpoint while its matching
 * engine restarts), 429 (throttled) and 5xx. API health and the outcomes both read them here.
 */
export function isApiFailureStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status < 600);
}

/** An HTTP status's outcome: the API failed (`failed`) or refused the request (other 4xx: `rejected`). */
function byHttpStatus(status: unknown): Outcome | undefined {
  if (typeof status !== 'number' || !Number.isInteger(status)) return undefined;
  if (isApiFailureStatus(status)) return 'failed';
  if (status >= 400 && status < 500) return 'rejected';
  return undefined;
}

/** Only this much of an error text is read: a bot's error can be megabytes long. */
const MAX_TEXT = 300;
/** The CLOB's answer to a marketable FOK/FAK order it could not fill: routine, not a refusal. */
const KILLED = /fully filled or killed|couldn'?t be fully filled|no orders found to match/i;
/** A cancel of an order that is no longer on the book: the cancel's aim is met. */
const ALREADY_GONE = /already canceled or matched|can'?t be found|not found/i;
/** axios's message when an error answer had no body: the status survives only in the text. */
const STATUS_CODE = /status code (\d{3})\b/;

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, MAX_TEXT) : undefined;
}

/** The outcome of the client's returned error `{ error, status }`, or of a thrown error's parts. */
function errorOutcome(status: unknown, message: string | undefined): Outcome {
  if (message !== undefined && KILLED.test(message)) return 'unfilled';
  const byStatus = byHttpStatus(status);
  if (byStatus !== undefined) return byStatus;
  const code = message === undefined ? undefined : STATUS_CODE.exec(message)?.[1];
  return (code !== undefined ? byHttpStatus(Number(code)) : undefined) ?? 'error';
}

function word(value: unknown): Outcome | undefined {
  return typeof value === 'string' ? OUTCOME_WORDS[value.trim().toLowerCase()] : undefined;
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false && value !== '';
}

function worst(items: readonly unknown[], classify: (item: unknown) => Outcome): Outcome {
  let result: Outcome | undefined;
  const n = Math.min(items.length, MAX_ITEMS);
  for (let i = 0; i < n; i++) {
    const outcome = classify(items[i]);
    if (result === undefined || RANK.get(outcome)! < RANK.get(result)!) result = outcome;
  }
  return result ?? 'success';
}

/** Guarded: a getter that throws or a revoked Proxy says nothing either way. */
function guarded(classify: (result: unknown) => Outcome): (result: unknown) => Outcome {
  return (result) => {
    try {
      return classify(result);
    } catch {
      return 'other';
    }
  };
}

/** A status or outcome word, when the result carries one: `outcome` first, when it is an outcome word at all. */
function said(r: Fields): Outcome | undefined {
  const spoken = word(r.outcome) ?? word(r.status);
  if (spoken !== undefined) return spoken;
  // A status word we do not know is `other`; an `outcome` that is no outcome word (a market's "Yes") says nothing.
  return typeof r.status === 'string' ? 'other' : undefined;
}

// -- The official CLOB client's answers: strict, every shape the table names, the rest `other` --

function clobOrder(result: unknown): Outcome {
  if (Array.isArray(result)) return result.length === 0 ? 'other' : worst(result, clobOrder);
  if (result === null || typeof result !== 'object') return 'other';
  const r = result as Fields;
  if (isSet(r.error)) return errorOutcome(r.status, text(r.error));
  const message = text(r.errorMsg);
  if (r.success === false) return message !== undefined && KILLED.test(message) ? 'unfilled' : 'rejected';
  const status = typeof r.status === 'string' ? CLOB_ORDER_STATUS[r.status.trim().toLowerCase()] : undefined;
  if (r.success === true && status !== undefined) return status;
  // No status the CLOB documents: an error message means the order was not placed; else unknown.
  return message !== undefined && message !== '' ? 'rejected' : 'other';
}

/** Polymarket's order statuses, as POST /order answers them. */
const CLOB_ORDER_STATUS: Readonly<Record<string, Outcome>> = { matched: 'filled', live: 'resting', delayed: 'delayed', unmatched: 'unfilled' };

function clobCancel(result: unknown): Outcome {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return 'other';
  const r = result as Fields;
  if (isSet(r.error)) return errorOutcome(r.status, text(r.error));
  if (!Array.isArray(r.canceled) && (r.not_canceled === null || typeof r.not_canceled !== 'object')) return 'other';
  const reasons = r.not_canceled !== null && typeof r.not_canceled === 'object' ? Object.values(r.not_canceled).slice(0, MAX_ITEMS) : [];
  return reasons.every((reason) => ALREADY_GONE.test(text(reason) ?? '')) ? 'success' : 'rejected';
}

/** What an order call of the CLOB client (`postOrder`, `postOrders`, `createAndPost…`) returned. Never throws. */
export const clobOrderOutcome = guarded(clobOrder);
/** What a cancel call of the CLOB client returned. Never throws. */
export const clobCancelOutcome = guarded(clobCancel);

// -- A bot's own results, through the probe: lenient, as a bot writes them -----------------------

function trade(result: unknown): Outcome {
  if (result === null || typeof result !== 'object') return 'success';
  if (Array.isArray(result)) return result.length === 0 ? 'success' : worst(result, trade);
  const r = result as Fields;
  // The CLOB client's returned HTTP error, `{ error, status }`, and its refusal, `{ success: false }`.
  if (isSet(r.error)) return errorOutcome(r.status, text(r.error));
  if (r.success === false) return 'rejected';
  // A cancel: `{ canceled: [ids], not_canceled: { id: reason } }`.
  if (Array.isArray(r.canceled) || (r.not_canceled !== null && typeof r.not_canceled === 'object')) return clobCancel(r);
  return said(r) ?? byHttpStatus(r.status) ?? 'success';
}

/**
 * A wallet scan's result: only a top-level `status` or `outcome` word says anything. What a scan
 * returns is the wallet's activity (arrays of trades whose `outcome` is a market's "Yes"), never
 * to be read as the scan's own outcome.
 */
function scan(result: unknown): Outcome {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return 'success';
  return said(result as Fields) ?? 'success';
}

/** The outcome a trade operation's normal return (or its promise's value) stands for. Never throws. */
export const outcomeOf = guarded(trade);
/** The outcome a wallet scan's normal return stands for. Never throws. */
export const scanOutcomeOf = guarded(scan);

/**
 * The outcome of a throw or a rejection: by the HTTP status it carries (the client's ApiError under
 * `throwOnError`, an axios error), `unfilled` for the CLOB's kill of a marketable order, else
 * `error`. Never throws.
 */
export function outcomeOfError(thrown: unknown): Outcome {
  try {
    if (thrown === null || typeof thrown !== 'object') return 'error';
    const t = thrown as { status?: unknown; statusCode?: unknown; response?: { status?: unknown } | null; message?: unknown };
    const status = t.status ?? t.statusCode ?? t.response?.status;
    return errorOutcome(status, text(t.message));
  } catch {
    return 'error';
  }
}

/** A bot's own mapper (the probe's `outcome` option): its word if it is one, `other` if not or if it throws. */
export function mappedOutcome(mapper: (result: unknown) => unknown, result: unknown): Outcome {
  try {
    const said = mapper(result);
    if (typeof said !== 'string') return 'other';
    return KNOWN.has(said) ? (said as Outcome) : (word(said) ?? 'other');
  } catch {
    return 'other';
  }
}
