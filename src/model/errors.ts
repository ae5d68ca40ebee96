/**
 * The one error type lipdp throws for problems with the user's input (model files, options).
 * Messages are a single line that says what went wrong and where (node, initializer, file), so a
 * CLI can print `error: <message>` without a stack trace.
 */
export type LipdpErrorCode =
  | 'MALFORMED_MODEL'
  | 'UNSUPPORTED_OP'
  | 'INVALID_WEIGHTS'
  | 'UNSUPPORTED_STRUCTURE'
  /** The output does not depend on the input (L = 0): a valid model with nothing to certify (CLI exit 3). */
  | 'CONSTANT_OUTPUT'
  | 'IO'
  | 'INVALID_ARGUMENT'
  | 'INTERNAL'
  | 'ABORTED'
  | 'NO_DEVICE';

export class LipdpError extends Error {
  readonly code: LipdpErrorCode;

  constructor(code: LipdpErrorCode, message: string, options?: { cause?: unknown }) {
    // Keep messages to one line even if a wrapped message had newlines in it.
    super(message.replace(/\s*\n\s*/g, ' '), options);
    this.name = 'LipdpError';
    this.code = code;
  }
}

export function isLipdpError(e: unknown): e is LipdpError {
  return e instanceof LipdpError;
}
