/**
 * `npm run demo`: builds the binary for this host and shows what it does.
 * (Grows into serve --demo + submit --dry-run once those commands exist.)
 */
const bin = `dist/glidein-linux-${process.arch}`

function run(argv: string[]): void {
  console.log(`\n$ ${argv.join(" ")}`)
  const result = Bun.spawnSync(argv, { stdout: "inherit", stderr: "inherit" })
  if (!result.success) process.exit(result.exitCode ?? 1)
}

run([process.execPath, "compile.ts", "--single"])
run([bin, "--version"])
run([bin, "--help"])
