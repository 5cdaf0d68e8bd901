import { describe, expect, test } from "bun:test"
import { type InstallFile, isWanted, selectInstall } from "./select-install.ts"

/** Listings without ELF files: nothing to trace. */
const noElf = () => undefined

const file = (path: string, mode = 0o755, inode?: string): InstallFile =>
  inode === undefined
    ? { path, type: "file", mode, size: 10 }
    : { path, type: "file", mode, size: 10, inode }
const dir = (path: string): InstallFile => ({ path, type: "directory", mode: 0o755, size: 0 })
const link = (path: string, linkTarget: string): InstallFile => ({
  path,
  type: "symlink",
  mode: 0o777,
  size: 0,
  linkTarget,
})

const daemons = [
  dir("sbin"),
  file("sbin/condor_master"),
  file("sbin/condor_startd"),
  file("sbin/condor_starter"),
]

describe("isWanted()", () => {
  test("keeps the startd's daemons, shared libraries, libexec and a few tools", () => {
    for (const path of [
      "sbin/condor_master",
      "sbin/condor_procd",
      "lib/libcondor_utils.so",
      "lib/condor/libssl.so.3",
      "libexec/condor_gpu_discovery",
      "libexec/annex/x",
      "bin/condor_config_val",
      "bin/condor_ping",
    ]) {
      expect(isWanted(path)).toBe(true)
    }
  })

  test("leaves out other daemons, submit-side tools, bindings, static libraries and docs", () => {
    for (const path of [
      "sbin/condor_schedd",
      "sbin/condor_collector",
      "bin/condor_submit",
      "lib/python3/htcondor/__init__.py",
      "lib/libclassad.a",
      "lib/libfoo.la",
      "man/man1/condor_q.1",
      "etc/condor_config",
      "include/condor.h",
      "sbin",
    ]) {
      expect(isWanted(path)).toBe(false)
    }
  })
})

describe("selectInstall()", () => {
  test("names the required daemons that are missing", () => {
    const selection = selectInstall([dir("sbin"), file("sbin/condor_master")], noElf)
    expect(selection.missing).toEqual(["sbin/condor_startd", "sbin/condor_starter"])
  })

  test("puts the install under glideinExec/ with its directories, sorted byte-wise", () => {
    const selection = selectInstall(
      [
        ...daemons,
        dir("lib"),
        file("lib/libz.so", 0o644),
        file("lib/libA.so", 0o600),
        dir("lib/condor"),
        file("lib/condor/x.so"),
        file("lib/python3/y.py"),
      ],
      noElf,
    )
    expect(selection.missing).toEqual([])
    expect(selection.members.map((m) => `${m.type} ${m.name} ${m.mode.toString(8)}`)).toEqual([
      "directory glideinExec/ 755",
      "directory glideinExec/lib/ 755",
      "directory glideinExec/lib/condor/ 755",
      "file glideinExec/lib/condor/x.so 755",
      "file glideinExec/lib/libA.so 644",
      "file glideinExec/lib/libz.so 644",
      "directory glideinExec/sbin/ 755",
      "file glideinExec/sbin/condor_master 755",
      "file glideinExec/sbin/condor_startd 755",
      "file glideinExec/sbin/condor_starter 755",
    ])
    expect(selection.omitted).toBe(1)
  })

  test("brings the target of a kept symlink along, even from a directory otherwise left out", () => {
    const selection = selectInstall(
      [
        ...daemons,
        dir("bin"),
        file("bin/condor_tool"),
        link("bin/condor_status", "condor_tool"),
        link("lib/libcondor_utils.so", "libcondor_utils_23.so"),
        file("lib/libcondor_utils_23.so"),
      ],
      noElf,
    )
    const names = selection.members.map((m) => m.name)
    expect(names).toContain("glideinExec/bin/condor_tool")
    const status = selection.members.find((m) => m.name === "glideinExec/bin/condor_status")
    expect(status).toMatchObject({ type: "symlink", linkname: "condor_tool", mode: 0o777 })
  })

  test("takes the 9.0+ release layout through its links, and adds the links a tree lacks", () => {
    const release = [
      link("sbin", "usr/sbin"),
      link("lib64", "usr/lib64"),
      link("libexec", "usr/libexec/condor"),
      link("usr/libexec/lib64", "../lib64"),
      file("usr/sbin/condor_master"),
      file("usr/sbin/condor_startd"),
      file("usr/sbin/condor_starter"),
      file("usr/sbin/condor_schedd"),
      file("usr/lib64/libcondor_utils_24_0_1.so"),
      file("usr/lib64/python3.9/site-packages/htcondor.py"),
      file("usr/libexec/condor/condor_gpu_discovery"),
      file("usr/share/man/man1/condor_q.1"),
    ]
    const names = (files: InstallFile[]) =>
      selectInstall(files, noElf).members.map((m) => `${m.type} ${m.name} ${m.linkname ?? ""}`)
    const withLinks = names(release)
    expect(withLinks).toEqual([
      "directory glideinExec/ ",
      "symlink glideinExec/lib64 usr/lib64",
      "symlink glideinExec/libexec usr/libexec/condor",
      "symlink glideinExec/sbin usr/sbin",
      "directory glideinExec/usr/ ",
      "directory glideinExec/usr/lib64/ ",
      "file glideinExec/usr/lib64/libcondor_utils_24_0_1.so ",
      "directory glideinExec/usr/libexec/ ",
      "directory glideinExec/usr/libexec/condor/ ",
      "file glideinExec/usr/libexec/condor/condor_gpu_discovery ",
      "directory glideinExec/usr/sbin/ ",
      "file glideinExec/usr/sbin/condor_master ",
      "file glideinExec/usr/sbin/condor_startd ",
      "file glideinExec/usr/sbin/condor_starter ",
    ])
    // the same tree without its links (the ld.so glue link only comes with a program needing it)
    const bare = release.filter((f) => f.type !== "symlink")
    expect(names(bare)).toEqual(withLinks)
    expect(selectInstall(bare, noElf).missing).toEqual([])
  })

  test("leaves out symlinks whose target is not in the install", () => {
    const selection = selectInstall([...daemons, link("lib/libgone.so", "libgone.so.1")], noElf)
    expect(selection.dangling).toEqual(["lib/libgone.so"])
    expect(selection.members.map((m) => m.name)).not.toContain("glideinExec/lib/libgone.so")
  })

  test("flags symlinks that point out of the install", () => {
    const selection = selectInstall(
      [...daemons, link("lib/libssl.so", "/usr/lib64/libssl.so")],
      noElf,
    )
    expect(selection.escaping).toEqual(["lib/libssl.so"])
  })

  test("keeps hard links as links to the first name in archive order", () => {
    const selection = selectInstall(
      [
        ...daemons,
        file("libexec/data_plugin", 0o755, "1:42"),
        file("libexec/curl_plugin", 0o755, "1:42"),
      ],
      noElf,
    )
    const plugins = selection.members.filter((m) => m.name.includes("_plugin"))
    expect(plugins).toEqual([
      {
        name: "glideinExec/libexec/curl_plugin",
        type: "file",
        mode: 0o755,
        size: 10,
        source: "libexec/curl_plugin",
      },
      {
        name: "glideinExec/libexec/data_plugin",
        type: "link",
        mode: 0o755,
        size: 0,
        linkname: "glideinExec/libexec/curl_plugin",
      },
    ])
  })
})
