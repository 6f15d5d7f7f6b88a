// Errors of the presence store, shared by every implementation.

/** The store cannot be opened (unwritable or unusable data directory, corrupt or too new database). */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A dialog id is already held by another record of the same direction. */
export class StoreConflictError extends Error {
  override readonly name = 'StoreConflictError';
}

/** The store was used after close(). */
export class StoreClosedError extends Error {
  override readonly name = 'StoreClosedError';
  constructor() {
    super('the presence store is closed');
  }
}
