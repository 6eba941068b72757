/**
 * ccxt's exceptions → statearb's domain errors. What a caller acts on is whether the request may
 * have taken effect (outcomeUnknown: ask by client id, never resend) and whether to back off.
 */
import ccxt from 'ccxt';
import {
  DuplicateClientOrderId,
  ExchangeError,
  ExchangeNotAvailable,
  InsufficientFunds,
  InvalidOrder,
  NetworkError,
  OrderImmediatelyFillable,
  OrderNotFound,
  RateLimitExceeded,
  RequestTimeout,
} from '../../domain/errors.ts';

/** Venues answer a reused client id in their own words; ccxt does not always map it. */
const DUPLICATE_ID =
  /duplicate|clientorderid is duplicated|orderlinkid.*(exists|duplicate)|-4116|-2010.*duplicate/i;

/**
 * "No such order" in the words of venues ccxt does not map it for (MEXC spot's -2013 "Order does
 * not exist" and -2011 "Unknown order sent" arrive as ExchangeError / BadRequest).
 */
const NOT_FOUND = /"code":\s*-201[13]\b|order does not exist|unknown order sent/i;

export interface MapContext {
  /** createOrder: a 5xx or a lost answer means the order may exist. */
  placing?: boolean;
  clientOrderId?: string;
  /** ms to wait after a rate-limit answer when the venue did not say. */
  defaultRetryAfterMs?: number;
}

export function fromCcxtError(e: unknown, venue: string, ctx: MapContext = {}): ExchangeError {
  if (e instanceof ExchangeError) return e;
  const err = e as Error;
  const msg = `${venue}: ${err?.message ?? String(e)}`;
  if (ctx.clientOrderId && DUPLICATE_ID.test(err?.message ?? '') && !(e instanceof ccxt.NetworkError))
    return new DuplicateClientOrderId(ctx.clientOrderId);
  if (e instanceof ccxt.DuplicateOrderId && ctx.clientOrderId)
    return new DuplicateClientOrderId(ctx.clientOrderId);
  // Rate limits first: ccxt's DDoSProtection and RateLimitExceeded are NetworkErrors too.
  if (e instanceof ccxt.RateLimitExceeded || e instanceof ccxt.DDoSProtection)
    return new RateLimitExceeded(msg, ctx.defaultRetryAfterMs ?? 1_000);
  if (e instanceof ccxt.OnMaintenance || e instanceof ccxt.ExchangeNotAvailable)
    // A 5xx on placement does not prove the order was refused (Binance: "execution status unknown").
    return ctx.placing ? new RequestTimeout(`${msg} (outcome unknown)`) : new ExchangeNotAvailable(msg);
  if (e instanceof ccxt.RequestTimeout) return new RequestTimeout(msg);
  if (e instanceof ccxt.NetworkError) return ctx.placing ? new RequestTimeout(msg) : new NetworkError(msg);
  if (e instanceof ccxt.OrderImmediatelyFillable) return new OrderImmediatelyFillable(msg, 'timeInForce');
  if (e instanceof ccxt.InsufficientFunds) return new InsufficientFunds(msg);
  if (e instanceof ccxt.OrderNotFound) return new OrderNotFound(msg);
  if (e instanceof ccxt.ExchangeError && NOT_FOUND.test(err.message ?? '')) return new OrderNotFound(msg);
  if (
    e instanceof ccxt.InvalidOrder ||
    e instanceof ccxt.BadSymbol ||
    e instanceof ccxt.BadRequest ||
    e instanceof ccxt.ArgumentsRequired
  )
    return new InvalidOrder(msg);
  if (e instanceof ccxt.AuthenticationError || e instanceof ccxt.PermissionDenied)
    return new ExchangeError(`${msg} (check the API key's permissions and the environment variables)`);
  // Not a ccxt error: a bug or a transport failure below ccxt. Unknown outcome when placing.
  if (!(e instanceof ccxt.BaseError)) return ctx.placing ? new RequestTimeout(msg) : new NetworkError(msg);
  return new ExchangeError(msg);
}
