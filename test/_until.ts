/**
 * Resolves once `done()` holds, checking every 10 ms; rejects naming `what` after `ms` (a bound on
 * a wait for an event, never a sleep standing in for one). No test runner needed: the reliability
 * suite uses it too.
 */
export async function until(done: () => boolean, what: string, ms = 5000): Promise<void> {
  for (const deadline = Date.now() + ms; !done(); await new Promise((resolve) => setTimeout(resolve, 10))) {
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`)
  }
}

/** As `until`, for a check that has to ask something (a server): one check at a time, every 10 ms. */
export async function untilAnswered(done: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  for (const deadline = Date.now() + ms; !(await done().catch(() => false)); await new Promise((resolve) => setTimeout(resolve, 10))) {
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`)
  }
}
