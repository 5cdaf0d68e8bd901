/**
 * Quoting for the POSIX shell scripts the adapters write. Values end up inside job scripts
 * that a batch system runs, so every value is quoted; none can end its quotes early.
 */
import { GlideinError } from "../errors.ts"

/** `'text'`: the shell sees exactly `text`, whatever it contains. */
export function quoteLiteral(text: string): string {
  rejectNul(text)
  return `'${text.replaceAll("'", `'\\''`)}'`
}

/**
 * `"text"` in which only `$NAME` and `${NAME}` expand, from the job's environment at run time,
 * as pyglidein's unquoted values did (`/scratch/$USER/${SLURM_JOB_ID}`). Every other `$`,
 * backquote, backslash and double quote is escaped, so `$(cmd)` and `` `cmd` `` stay text.
 */
export function quoteExpanding(text: string): string {
  rejectNul(text)
  let out = ""
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === "$") {
      const ref = /^\$(?:[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})/.exec(text.slice(i))
      if (ref) {
        out += ref[0]
        i += ref[0].length - 1
        continue
      }
      out += "\\$"
    } else if (c === "`" || c === "\\" || c === '"') {
      out += `\\${c}`
    } else {
      out += c
    }
  }
  return `"${out}"`
}

/** True for a name the shell and `env` accept as an environment variable. */
export function isEnvName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)
}

function rejectNul(text: string): void {
  // A NUL cannot be passed through argv or the environment; the shell would cut the value.
  if (text.includes("\0"))
    throw new GlideinError(`a job script value contains a NUL byte: ${JSON.stringify(text)}`)
}
