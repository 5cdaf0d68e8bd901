import { describe, expect, test } from "bun:test"
import { adText } from "./ad-text.ts"

const AD_TEXT = "printf '%s' \"$1\" | tr -c 'A-Za-z0-9 ._@/:+=,-' '_' | cut -c 1-128"

describe("adText()", () => {
  test("cuts a text as glidein_start.sh's ad_text does, byte by byte", () => {
    for (const text of [
      "ice@login1/gpu",
      "IceCube (UW)",
      "Uni Köln",
      'x" $(SEC_PASSWORD_FILE)\nSTART = True\\',
      "ü".repeat(100),
      "a".repeat(300),
    ]) {
      const shell = Bun.spawnSync(["sh", "-c", AD_TEXT, "sh", text], { env: { LC_ALL: "C" } })
      // $(ad_text …) in the script drops the newline cut ends its line with.
      expect(adText(text)).toBe(shell.stdout.toString().replace(/\n$/, ""))
    }
  })
})
