// The result of an operation on untrusted input: never thrown, always
// returned. Shared by the SIP body parsers, the MSRP stack and the core ports.
export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(error: string): Result<T> {
  return { ok: false, error };
}
