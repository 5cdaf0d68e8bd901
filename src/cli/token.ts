/**
 * @module
 * `glidein token create NAME --tokens FILE`: makes a site's token for `serve --tokens`,
 * adds `NAME TOKEN` to the file (created mode 0600, or appended to in place so its owner and
 * mode stay) and prints the token once.
 */
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, writeSync } from "node:fs"
import { dirname } from "node:path"
import { writeStderr, writeStdout } from "../client/lib/std-output.ts"
import { ConfigError, errorCode, GlideinError, UsageError } from "../errors.ts"
import { readPrivateFile } from "../private-file.ts"
import { badTokenName, newToken, parseTokenLines } from "../server/tokens.ts"
import { defineCommand } from "./command.ts"
import { text } from "./option-types.ts"

/** The `glidein token create` command. */
export const tokenCreateCommand = defineCommand({
  name: "token create",
  positionals: { names: ["NAME"], min: 1 },
  details: `Prints the new token on stdout, once: the file keeps it, nothing else does. Give it to
the site, whose glidein submit sends it ([Glidein] token = … in its secrets file).
A name already in the file is refused: to replace a token, delete its line first.
A running server reads the file again on SIGHUP (systemctl reload glidein-serve).`,
  options: {
    tokens: {
      ...text("a file name"),
      value: "FILE",
      required: true,
      description: "the tokens file of glidein serve",
    },
  },
  async run(args) {
    const name = args.positionals[0]!
    const file = args.values.tokens
    const badName = badTokenName(name)
    if (badName !== undefined) throw new UsageError(`glidein token create: ${badName}`)
    const token = newToken()
    const line = `${name} ${token}\n`
    if (existsSync(file)) {
      // The same checks as serve's: never add to a file others can read, or a broken one.
      const text = readPrivateFile(file, "tokens file")
      const same = parseTokenLines(text, file).find((t) => t.name === name)
      if (same !== undefined) {
        throw new ConfigError(
          { file, line: same.line },
          `a token named "${name}" is already here; to replace it, delete this line first`,
        )
      }
      write(file, () =>
        appendFileSync(file, text === "" || text.endsWith("\n") ? line : `\n${line}`),
      )
    } else {
      write(file, () => {
        mkdirSync(dirname(file), { recursive: true })
        // "wx": a file that appears meanwhile is not overwritten.
        const fd = openSync(file, "wx", 0o600)
        try {
          writeSync(fd, `# glidein serve --tokens: "name token" lines\n${line}`)
        } finally {
          closeSync(fd)
        }
      })
    }
    writeStdout(`${token}\n`)
    writeStderr(
      `added the token "${name}" to ${file}; it is not shown again. Reload a running server: systemctl reload glidein-serve (or kill -HUP its pid)\n`,
    )
    return 0
  },
})

function write(file: string, how: () => void): void {
  try {
    how()
  } catch (error) {
    throw new GlideinError(`cannot write the tokens file "${file}" (${errorCode(error)})`)
  }
}
