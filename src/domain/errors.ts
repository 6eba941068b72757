/**
 * Typed exchange errors, named after ccxt's so an adapter can map one to one.
 *
 * The two properties a caller acts on:
 * - `retryable`: the same request may be sent again (after `retryAfterMs` when set).
 * - `outcomeUnknown`: the request may or may not have taken effect at the venue; for an order
 *   this means "ask the venue by client order id before doing anything else", never "resend".
 */
export class ExchangeError extends Error {
  readonly retryable: boolean = false;
  readonly outcomeUnknown: boolean = false;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Transport-level failure: the request may have reached the venue. */
export class NetworkError extends ExchangeError {
  override readonly retryable: boolean = true;
  override readonly outcomeUnknown: boolean = true;
}

/** No answer within the deadline: the request may have been executed. */
export class RequestTimeout extends NetworkError {}

/** The venue answered that it is down or overloaded (5xx, maintenance): the request was not processed. */
export class ExchangeNotAvailable extends NetworkError {
  override readonly outcomeUnknown = false;
}

/** Too many requests: nothing was executed; retry after `retryAfterMs`. */
export class RateLimitExceeded extends NetworkError {
  override readonly outcomeUnknown = false;
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** Not enough free balance or margin. Not retryable as is. */
export class InsufficientFunds extends ExchangeError {}

/** The venue refused the order's parameters (precision, limits, symbol, reduce-only, ...). */
export class InvalidOrder extends ExchangeError {
  constructor(
    message: string,
    /** The request field at fault, when one is. */
    readonly field?: string,
  ) {
    super(message);
  }
}

/** A post-only order would have taken liquidity, so the venue refused it. */
export class OrderImmediatelyFillable extends InvalidOrder {}

/** The client order id was already used on this account. */
export class DuplicateClientOrderId extends InvalidOrder {
  constructor(readonly clientOrderId: string) {
    super(`client order id ${clientOrderId} was already used on this account`, 'clientOrderId');
  }
}

/**
 * The client order id was journalled for a different request: nothing was sent under it now
 * (the engine's own refusal, before the venue). Retry with a new id.
 */
export class ClientIdRetired extends InvalidOrder {
  constructor(readonly clientOrderId: string) {
    super(
      `client order id ${clientOrderId} was journalled for a different request; it is retired, not reused`,
      'clientOrderId',
    );
  }
}

/** The venue knows no such order (or no longer knows it as open, for cancels). */
export class OrderNotFound extends ExchangeError {}

const errorClasses: Record<string, new (message: string) => ExchangeError> = {
  ExchangeError,
  NetworkError,
  RequestTimeout,
  ExchangeNotAvailable,
  InsufficientFunds,
  InvalidOrder,
  OrderImmediatelyFillable,
  OrderNotFound,
};

export interface SerializedError {
  name: string;
  message: string;
  retryAfterMs?: number;
  field?: string;
  clientOrderId?: string;
}

/** Wire form of an error, for the standalone venue's HTTP API. */
export function serializeError(e: unknown): SerializedError {
  if (e instanceof RateLimitExceeded)
    return { name: e.name, message: e.message, retryAfterMs: e.retryAfterMs };
  if (e instanceof DuplicateClientOrderId)
    return { name: e.name, message: e.message, clientOrderId: e.clientOrderId };
  if (e instanceof InvalidOrder && e.field !== undefined)
    return { name: e.name, message: e.message, field: e.field };
  if (e instanceof ExchangeError) return { name: e.name, message: e.message };
  return { name: 'ExchangeError', message: e instanceof Error ? e.message : String(e) };
}

export function deserializeError(s: SerializedError): ExchangeError {
  if (s.name === 'RateLimitExceeded') return new RateLimitExceeded(s.message, s.retryAfterMs ?? 1000);
  if (s.name === 'DuplicateClientOrderId') return new DuplicateClientOrderId(s.clientOrderId ?? '?');
  if (s.name === 'InvalidOrder') return new InvalidOrder(s.message, s.field);
  const Cls = errorClasses[s.name] ?? ExchangeError;
  return new Cls(s.message);
}
