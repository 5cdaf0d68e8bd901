/**
 * @module
 * The kinds of value a command's options take, as zod schemas with the words their errors
 * use. Each accepts a flag's text and a config file's typed value (`port = 11001` is a number
 * there), so serve's flags and its `[server]` keys are checked by the same schema.
 */
import * as z from "zod/mini"

/** Text with something in it: a path, an address, a name. */
export function text(what: string) {
  return { schema: z.string().check(z.regex(/\S/)), expects: what }
}

/** Text that `check` also accepts; its refusal (one sentence, undefined when fine) is the error. */
export function checkedText(what: string, check: (value: string) => string | undefined) {
  const schema = z.string().check(
    z.regex(/\S/),
    z.superRefine((value, context) => {
      const problem = check(value)
      if (problem !== undefined)
        context.addIssue({ code: "custom", message: problem, input: value })
    }),
  )
  return { schema, expects: what }
}

/** A whole number from `min` to `max`: digits on the command line, a number in a config file. */
export function wholeNumber(what: string, min: number, max: number) {
  const digits = z.pipe(z.string().check(z.regex(/^\s*\d+\s*$/)), z.transform(Number))
  const schema = z.pipe(z.union([z.number(), digits]), z.int().check(z.gte(min), z.lte(max)))
  return { schema, expects: `${what} from ${min} to ${max}` }
}

/** A number above 0 and at most `max`, written as digits with an optional fraction (`1.5`). */
export function positiveNumber(what: string, max: number) {
  const decimal = z.pipe(z.string().check(z.regex(/^\d+(\.\d+)?$/)), z.transform(Number))
  const schema = z.pipe(decimal, z.number().check(z.gt(0), z.lte(max)))
  return { schema, expects: `${what} from 0 to ${max}` }
}
