/**
 * The documentation stays true to the tree: the command pages in docs/commands are what
 * `--help` prints now, and every relative link in README.md, docs/ and bench/README.md points
 * at a file that exists and, with a `#fragment`, at a heading that file has.
 */
import { describe, expect, test } from "bun:test"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import path from "node:path"
import { expectedPages, orphanPages, REGENERATE, stalePages } from "../scripts/command-docs.ts"

const ROOT = path.resolve(import.meta.dir, "..")

/** README.md, bench/README.md and every Markdown file under docs/. */
function markdownFiles(): string[] {
  const files = [path.join(ROOT, "README.md"), path.join(ROOT, "bench", "README.md")]
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name)
      if (statSync(full).isDirectory()) walk(full)
      else if (name.endsWith(".md")) files.push(full)
    }
  }
  walk(path.join(ROOT, "docs"))
  return files.filter((file) => existsSync(file))
}

/** The text outside fenced code blocks and inline code, line by line (numbers kept). */
function proseLines(markdown: string): string[] {
  let fenced = false
  return markdown.split("\n").map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced
      return ""
    }
    return fenced ? "" : line.replace(/`[^`]*`/g, "")
  })
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-")
}

/** The anchors a Markdown file's headings make, with GitHub's -1, -2 for repeats. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const result = new Set<string>()
  let fenced = false
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced
    const match = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (!match) continue
    const base = slug((match[1] ?? "").replace(/`/g, ""))
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    result.add(n === 0 ? base : `${base}-${n}`)
  }
  return result
}

/** Every `[text](target)` link target outside code, with its line number. */
function links(markdown: string): { target: string; line: number }[] {
  const found: { target: string; line: number }[] = []
  proseLines(markdown).forEach((line, index) => {
    for (const match of line.matchAll(/\]\(\s*<?([^()\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      found.push({ target: match[1] ?? "", line: index + 1 })
    }
  })
  // A link whose text or target is split over two lines.
  const joined = proseLines(markdown).join(" ")
  for (const match of joined.matchAll(/\]\(\s*<?([^()\s>]+)>?\s*\)/g)) {
    const target = match[1] ?? ""
    if (!found.some((link) => link.target === target)) found.push({ target, line: 0 })
  }
  return found
}

describe("docs", () => {
  test("slug() makes GitHub's anchors", () => {
    expect(slug("The server: `glidein serve`".replace(/`/g, ""))).toBe("the-server-glidein-serve")
    expect(slug("glidein status --server URL")).toBe("glidein-status---server-url")
    expect(slug("Sites without outgoing connections (2FA login nodes): glidein push-state")).toBe(
      "sites-without-outgoing-connections-2fa-login-nodes-glidein-push-state",
    )
  })

  test("every relative link in README.md, docs/ and bench/README.md resolves", () => {
    const broken: string[] = []
    const files = markdownFiles()
    expect(files.length).toBeGreaterThan(5)
    for (const file of files) {
      const text = readFileSync(file, "utf8")
      for (const { target, line } of links(text)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue // http:, https:, mailto:
        const [rawPath = "", fragment] = target.split("#", 2)
        const where = `${path.relative(ROOT, file)}${line ? `:${line}` : ""}`
        const resolved = rawPath === "" ? file : path.resolve(path.dirname(file), rawPath)
        if (!existsSync(resolved)) {
          broken.push(`${where}: ${target}: no such file`)
          continue
        }
        if (fragment === undefined || fragment === "") continue
        if (!resolved.endsWith(".md")) {
          broken.push(`${where}: ${target}: an anchor into a file that is not Markdown`)
          continue
        }
        const wanted = decodeURIComponent(fragment).toLowerCase()
        if (!anchors(readFileSync(resolved, "utf8")).has(wanted)) {
          broken.push(
            `${where}: ${target}: ${path.relative(ROOT, resolved)} has no heading #${wanted}`,
          )
        }
      }
    }
    expect(broken).toEqual([])
  })

  test("docs/commands is what --help prints now", () => {
    const expected = expectedPages()
    const stale = stalePages(expected).map(
      (file) => `${file} differs from the command's --help; regenerate with: ${REGENERATE}`,
    )
    const orphans = orphanPages(expected).map(
      (file) =>
        `${path.relative(ROOT, file)} documents no current command; regenerate with: ${REGENERATE}`,
    )
    expect([...stale, ...orphans]).toEqual([])
  }, 60_000)
})
