// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings hold shell syntax
import { expect, test } from "bun:test"
import { ConfigError } from "../errors.ts"
import { renderTemplate } from "./template.ts"

test("renderTemplate() replaces placeholders, with or without inner spaces", () => {
  expect(renderTemplate("a {{X}} b {{ Y }}", { X: "1", Y: "2" }, "t")).toBe("a 1 b 2")
})

test("renderTemplate() drops a line that holds only an empty placeholder", () => {
  expect(renderTemplate("a\n  {{X}}\nb {{X}}\n", { X: "" }, "t")).toBe("a\nb \n")
})

test("renderTemplate() does not expand placeholders inside values", () => {
  expect(renderTemplate("{{X}}", { X: "{{Y}}", Y: "no" }, "t")).toBe("{{Y}}")
})

test("renderTemplate() names file, line and placeholder when one is unknown", () => {
  const run = () =>
    renderTemplate("ok\n\n#SBATCH --mem={{MEMORY}}\n", { MEMORY_MB: "1" }, "site.sh")
  expect(run).toThrow(ConfigError)
  expect(run).toThrow('site.sh:3: unknown placeholder "{{MEMORY}}"; known: MEMORY_MB')
})

test("renderTemplate() leaves lone braces alone", () => {
  expect(renderTemplate("awk '{ print }' ${X} {{}}", {}, "t")).toBe("awk '{ print }' ${X} {{}}")
})
