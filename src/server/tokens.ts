/**
 * Bearer tokens for `monitoring` (`serve --tokens FILE`): one `name token` pair per line.
 * Tokens are compared in constant time, and never logged or echoed; a report is attributed to
 * the name of the token that sent it.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import { ConfigError } from "../errors.ts"
import { readPrivateFile } from "../private-file.ts"

/** Shortest token accepted: anything shorter can be guessed. */
const MIN_TOKEN_LENGTH = 16
/** What a token's name may be: it is shown on the status page and in the log. */
const NAME = /^[\w.@-]{1,64}$/

/** A new token: 32 random bytes, base64url (43 characters, no padding). */
export function newToken(): string {
  return randomBytes(32).toString("base64url")
}

/** Why `name` cannot name a token, or undefined when it can. */
export function badTokenName(name: string): string | undefined {
  return NAME.test(name)
    ? undefined
    : `expected a name of letters, digits, "_", ".", "@" or "-", got "${name.slice(0, 64)}"`
}

/** One line of a tokens file. */
export interface TokenLine {
  name: string
  token: string
  line: number
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest()
}

/** A set of named tokens. */
export class TokenSet {
  private readonly entries: { name: string; digest: Buffer }[]

  constructor(pairs: { name: string; token: string }[]) {
    this.entries = pairs.map(({ name, token }) => ({ name, digest: digest(token) }))
  }

  /** How many tokens are configured. */
  get size(): number {
    return this.entries.length
  }

  /**
   * The name of the token in an `Authorization: Bearer …` header, or undefined. Every entry
   * is compared (digests of equal length, `timingSafeEqual`), so the time taken says nothing
   * about which token, or how much of one, matched.
   */
  nameFor(authorization: string | null | undefined): string | undefined {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? "")
    const offered = digest(match?.[1] ?? "")
    let name: string | undefined
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, offered)) name ??= entry.name
    }
    return name
  }
}

/**
 * Parses a tokens file: `name token` per line, `#` comments and blank lines ignored.
 * Errors name the line but never show a token.
 */
export function parseTokens(text: string, file: string): TokenSet {
  const pairs = parseTokenLines(text, file)
  if (pairs.length === 0) throw new ConfigError({ file }, 'no tokens (expected "name token" lines)')
  return new TokenSet(pairs)
}

/** The lines of a tokens file, checked as parseTokens() checks them; none is no error. */
export function parseTokenLines(text: string, file: string): TokenLine[] {
  const pairs: TokenLine[] = []
  const seen = new Map<string, number>()
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim()
    if (line === "" || line.startsWith("#")) continue
    const place = { file, line: index + 1 }
    const fields = line.split(/\s+/)
    if (fields.length !== 2) {
      throw new ConfigError(
        place,
        `expected "name token", got ${fields.length} field${fields.length === 1 ? "" : "s"}`,
      )
    }
    const [name, token] = fields as [string, string]
    const badName = badTokenName(name)
    if (badName !== undefined) throw new ConfigError(place, badName)
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new ConfigError(
        place,
        `the token for "${name}" is shorter than ${MIN_TOKEN_LENGTH} characters`,
      )
    }
    const previous = seen.get(token)
    if (previous !== undefined) {
      throw new ConfigError(place, `the token for "${name}" is the same as on line ${previous}`)
    }
    seen.set(token, index + 1)
    pairs.push({ name, token, line: index + 1 })
  }
  return pairs
}

/** Reads a tokens file, refusing one that others can read (as pyglidein refused secrets). */
export function loadTokens(file: string): TokenSet {
  return parseTokens(readPrivateFile(file, "tokens file"), file)
}

/**
 * Reads the tokens file again (on SIGHUP): the new set and a line for the log, or, when the
 * file cannot be used, the current set kept and a line saying why.
 */
export function reloadTokens(file: string, current: TokenSet): { tokens: TokenSet; said: string } {
  try {
    const tokens = loadTokens(file)
    return { tokens, said: `read ${tokens.size} token${tokens.size === 1 ? "" : "s"} from ${file}` }
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error)
    return { tokens: current, said: `kept the ${current.size} tokens in use: ${why}` }
  }
}
