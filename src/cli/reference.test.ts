import { describe, expect, test } from "bun:test"
import { commandReference, renderReference } from "./reference.ts"
import { example } from "./test-command.ts"

describe("renderReference()", () => {
  test("renderReference() shows the usage and a row per visible option with what it takes", () => {
    const page = renderReference(example, "run an example")
    expect(page).toStartWith("# glidein example run\n\nRun an example.\n")
    expect(page).toContain(
      "```sh\nglidein example run ITEM --config FILE [-p|--port N] [--user NAME] [--dry-run]\n```",
    )
    expect(page).toContain(
      "| Option | Takes | Default | Description |\n| --- | --- | --- | --- |\n",
    )
    expect(page).toContain("| `-p`, `--port N` | a port number from 0 to 65535 | 11001 | a port |")
    expect(page).toContain("| `--dry-run` |  |  | do nothing |")
    expect(page).toContain("| `-h`, `--help` |")
    expect(page).not.toContain("no-daemon")
  })

  test("renderReference() adds the config-file key column where the command reads a file", () => {
    const withFile = { ...example, configFile: { option: "config", section: "server" } }
    const page = renderReference(withFile, "x")
    expect(page).toContain("| Option | Takes | Default | `[server]` key | Description |")
    expect(page).toContain(
      "| `-p`, `--port N` | a port number from 0 to 65535 | 11001 | `port` | a port |",
    )
    expect(page).toContain(
      "`--config` names an INI file whose `[server]` section may set the options",
    )
  })

  test("renderReference() keeps help's indented lines as code blocks among the prose", () => {
    const page = renderReference(
      { ...example, details: "Two\nlines.\n  cmd --x\n  cmd --y\nAfter | bar." },
      "x",
    )
    expect(page).toEndWith(
      "## Notes\n\nTwo\nlines.\n\n```text\ncmd --x\ncmd --y\n```\n\nAfter | bar.\n",
    )
  })
})

test("commandReference() renders every command of the table by name, and refuses others", async () => {
  const serve = await commandReference("serve")
  expect(serve).toContain(
    "| `-p`, `--port PORT` | a port number from 0 to 65535 | 11001 | `port` |",
  )
  expect(serve).toContain(
    "| `--condor-q PATH` | a path to condor_q | condor_q in PATH | `condor_q` |",
  )
  expect(await commandReference("tarball inspect")).toStartWith("# glidein tarball inspect\n")
  await expect(commandReference("frobnicate")).rejects.toThrow('no command named "frobnicate"')
})
