/**
 * What a scan's or a trade's result means, in a trader's words: the one table from every response
 * shape of the official CLOB client (and the words a bot's own results may carry) to an outcome.
 * The README's outcome table is tested against it.
 *
 * The client does not throw by default: a refused order comes back as `{ success: false,
 * errorMsg }` and an HTTP error as `{ error, status }`, both ordinary return values. Reading only
 * "did it throw" would count every failed order as a success, so the shape decides, and a failure
 * is never read as a success: an `error` field outranks any status word beside it.
 *
 * Results are the bot's values, read on its call: every read is guarded (a throwing getter or a
 * revoked Proxy is `other`), nothing is called, arrays are read only as far as MAX_ITEMS.
 */
import { OUTCOMES, type Outcome } from '../model.js';

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

type Fields = { error?: unknown; success?: unknown; status?: unknown; outcome?: unknown; canceled?: unknown; not_canceled?: unknown };

/** An HTTP status's outcome: the exchange refused the request (4xx) or the API failed (429, 5xx). */
function byHttpStatus(status: unknown): Outcome | undefined {
  if (typeof status !== 'number' || !Number.isInteger(status)) return undefined;
  if (status === 429 || (status >= 500 && status < 600)) return 'failed';
  if (status >= 400 && status < 500) return 'rejected';
  return undefined;
}

function word(value: unknown): Outcome | undefined {
  return typeof value === 'string' ? OUTCOME_WORDS[value.trim().toLowerCase()] : undefined;
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false && value !== '';
}

function worst(items: readonly unknown[]): Outcome {
  if (items.length === 0) return 'success';
  let result: Outcome = 'skipped';
  const n = Math.min(items.length, MAX_ITEMS);
  for (let i = 0; i < n; i++) {
    const outcome = classify(items[i]);
    if (RANK.get(outcome)! < RANK.get(result)!) result = outcome;
  }
  return result;
}

function classify(result: unknown): Outcome {
  if (result === null || typeof result !== 'object') return 'success';
  if (Array.isArray(result)) return worst(result);
  const r = result as Fields;
  // The client's returned HTTP error: `{ error, status }` (status absent for a network error).
  if (isSet(r.error)) return byHttpStatus(r.status) ?? 'error';
  if (r.success === false) return 'rejected';
  // A cancel: `{ canceled: [ids], not_canceled: { id: reason } }`.
  if (Array.isArray(r.canceled) || (r.not_canceled !== null && typeof r.not_canceled === 'object')) {
    const refused = r.not_canceled !== null && typeof r.not_canceled === 'object' && Object.keys(r.not_canceled).length > 0;
    return refused ? 'rejected' : 'success';
  }
  const said = r.outcome ?? r.status;
  if (typeof said === 'string') return word(said) ?? 'other';
  return byHttpStatus(said) ?? 'success';
}

/** The outcome a normal return (or a promise's value) stands for. Never throws. */
export function outcomeOf(result: unknown): Outcome {
  try {
    return classify(result);
  } catch {
    // A getter that throws, a revoked Proxy: a result monitoring cannot read says nothing either way.
    return 'other';
  }
}

/** The outcome of a throw or a rejection: by the HTTP status it carries, else `error`. Never throws. */
export function outcomeOfError(thrown: unknown): Outcome {
  try {
    if (thrown === null || typeof thrown !== 'object') return 'error';
    const t = thrown as { status?: unknown; statusCode?: unknown; response?: { status?: unknown } | null };
    // The client's ApiError (throwOnError) carries `status`; an axios error, `response.status`.
    return byHttpStatus(t.status) ?? byHttpStatus(t.statusCode) ?? byHttpStatus(t.response?.status) ?? 'error';
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
