/**
 * @module
 * A command with an option of every kind, for the tests of the option framework.
 */
import { defineCommand, flag, NO_DAEMON } from "./command.ts"
import { checkedText, text, wholeNumber } from "./option-types.ts"

/** Required and defaulted options, a checked one, flags and an ignored flag, a positional. */
export const example = defineCommand({
  name: "example run",
  options: {
    config: {
      ...text("a file name"),
      value: "FILE",
      required: true,
      description: "the config file",
    },
    port: {
      ...wholeNumber("a port number", 0, 65535),
      short: "p",
      value: "N",
      default: 11001,
      config: "port",
      description: "a port",
    },
    user: {
      ...checkedText("a user name", (u) =>
        u.startsWith("-") ? `"${u}" starts with "-"` : undefined,
      ),
      value: "NAME",
      description: "a user",
    },
    "dry-run": flag("do nothing"),
    "no-daemon": NO_DAEMON,
  },
  positionals: { names: ["ITEM"], min: 1 },
  run: async () => 0,
})
