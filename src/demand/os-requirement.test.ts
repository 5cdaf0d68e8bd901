import { describe, expect, test } from "bun:test"
import { osRequirement } from "./os-requirement.ts"

describe("osRequirement()", () => {
  const cases: [string, string | null][] = [
    ['(TARGET.OpSysAndVer =?= "SL6") && (TARGET.Arch == "X86_64")', "sl6"],
    ['(TARGET.OpSysAndVer == "CentOS7")', "centos7"],
    ['OpSysAndVer == "AlmaLinux9"', "almalinux9"],
    ['("Rocky8" == TARGET.OpSysAndVer) && (TARGET.Disk >= RequestDisk)', "rocky8"],
    ['TARGET.OpSysAndVer is "SL7"', "sl7"],
    ['(target.opsysandver =?= "SL6")', "sl6"],
    ['((TARGET.OpSysAndVer == "SL6") && (TARGET.Arch == "X86_64")) && (TARGET.Memory > 1)', "sl6"],
    ['(TARGET.OpSysMajorVer == 8) && (TARGET.Arch == "X86_64")', "el8"],
    ['(TARGET.OpSysMajorVer == 7) && (TARGET.OpSysAndVer == "CentOS7")', "centos7"],
    ['(TARGET.IceCubeSite =!= "a, b") && (TARGET.OpSysAndVer =?= "SL6")', "sl6"],
    [
      '(TARGET.HasFileTransfer || (TARGET.FileSystemDomain == "x")) && (TARGET.OpSysAndVer == "SL6")',
      "sl6",
    ],
  ]
  for (const [expr, os] of cases) {
    test(`reads ${JSON.stringify(expr)} as ${os}`, () => {
      expect(osRequirement(expr)).toBe(os)
    })
  }

  const optional: [string, string][] = [
    ['!(TARGET.OpSysAndVer =?= "SL6")', "negated (pyglidein read this as sl6)"],
    ['(TARGET.OpSysAndVer == "SL6") || (TARGET.OpSysAndVer == "SL7")', "either of two"],
    ['TARGET.OpSysAndVer == "SL6" || TARGET.HasSingularity', "optional through ||"],
    ['TARGET.HasX ? (TARGET.OpSysAndVer == "SL6") : true', "inside ?:"],
    ['ifThenElse(TARGET.OpSysAndVer == "SL6", true, false)', "a function argument"],
    ['(TARGET.OpSysAndVer == "SL6") == false', "an operand of =="],
    ['(TARGET.OpSysAndVer != "SL6")', "not equal"],
    ['(TARGET.OpSysAndVer =!= "SL6")', "isnt"],
    ['(MY.OpSysAndVer == "SL6")', "the job's own attribute"],
    ['(TARGET.OpSysAndVer == "SL6") && (TARGET.OpSysAndVer == "SL7")', "contradictory"],
    ['(TARGET.OpSysAndVer == "SL 6; rm -rf /")', "not a plain OS token"],
    ['(TARGET.OpSysAndVer == "SL6', "an unterminated string"],
    ["(TARGET.OpSysAndVer == TARGET.Other)", "compared with an attribute"],
    ["(TARGET.OpSysMajorVer == 8) && (TARGET.OpSysMajorVer == 9)", "contradictory majors"],
    ['{TARGET.OpSysAndVer == "SL6"}', "inside a list"],
    ['(TARGET.Arch == "X86_64")', "no OS test at all"],
    ['(TARGET.OpSysAndVer == "SL6"', "in a bracket never closed"],
    ['TARGET.OpSysAndVer == "SL6")', "before a bracket never opened"],
    ['(TARGET.OpSysAndVer == "SL6"]', "in brackets that do not match"],
    ["", "empty"],
    ["undefined", "undefined"],
  ]
  for (const [expr, why] of optional) {
    test(`gives null when the OS test is ${why}`, () => {
      expect(osRequirement(expr)).toBeNull()
    })
  }

  test("reads expressions of any size and depth in one pass", () => {
    // Walking the tokens out from every comparison made this 1 MB line take minutes.
    const many = Array.from({ length: 40_000 }, () => '(TARGET.OpSysAndVer == "SL6")').join(" && ")
    expect(many.length).toBeGreaterThan(1_000_000)
    expect(osRequirement(`(${many}) && (TARGET.Arch == "X86_64")`)).toBe("sl6")
    const deep = 200_000
    expect(osRequirement(`${"(".repeat(deep)}OpSysAndVer == "CentOS7"${")".repeat(deep)}`)).toBe(
      "centos7",
    )
    expect(osRequirement(`${"!(".repeat(deep)}OpSysAndVer == "CentOS7"${")".repeat(deep)}`)).toBe(
      null,
    )
  }, 30_000)
})
