/**
 * Refusals the domain can make. Each has a stable `name`: Step Functions matches it in Catch
 * clauses and the API maps it to a status code, so the names are part of the contract.
 */
export interface FieldError {
  path: string;
  message: string;
}

export const DOMAIN_ERROR_STATUS = {
  InvalidCommand: 400,
  Forbidden: 403,
  NotFound: 404,
  NotAllowedInStage: 409,
  VersionConflict: 409,
  IdempotencyKeyReused: 422,
} as const;
export type DomainErrorName = keyof typeof DOMAIN_ERROR_STATUS;
export const DOMAIN_ERROR_NAMES = Object.keys(DOMAIN_ERROR_STATUS) as DomainErrorName[];

export class DomainError extends Error {
  readonly errors: FieldError[];
  constructor(name: DomainErrorName, detail: string, errors: FieldError[] = []) {
    super(detail);
    this.name = name;
    this.errors = errors;
  }
  get status(): number {
    return DOMAIN_ERROR_STATUS[this.name as DomainErrorName];
  }
  /** What crosses the state machine boundary: Step Functions keeps only the name and the message. */
  toCause(): string {
    return JSON.stringify({ detail: this.message, errors: this.errors });
  }
}

export const invalid = (path: string, message: string, detail = `${path}: ${message}`) =>
  new DomainError('InvalidCommand', detail, [{ path, message }]);
export const notFound = (detail: string) => new DomainError('NotFound', detail);
export const forbidden = (detail: string) => new DomainError('Forbidden', detail);
export const notAllowedInStage = (detail: string) => new DomainError('NotAllowedInStage', detail);
export const versionConflict = (detail: string) => new DomainError('VersionConflict', detail);
/**
 * A command sent with the version the plan had when it was read, after the plan has moved on:
 * expectedVersion is the field at fault, so the refusal names it (a form can tell her what changed).
 */
export const staleVersion = (current: number, expected: number) =>
  new DomainError('VersionConflict', `The plan is at version ${current}, not ${expected}: reload it and try again.`, [
    { path: 'expectedVersion', message: `is ${expected}, but the plan has changed since and is at version ${current}` },
  ]);
