/** The error every tarball command throws when its signal stops it. */
import { GlideinError } from "../errors.ts"

/** Thrown when a signal stops a command. */
export class InterruptedError extends GlideinError {
  constructor() {
    super("interrupted; no output was written")
  }
}
