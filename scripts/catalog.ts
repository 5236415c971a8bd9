// The catalog CLI: `npm run catalog -- <command>`. See scripts/cli/main.ts for the commands.
import { main } from './cli/main.ts'

process.exitCode = await main(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  now: new Date(),
  out: (line) => console.log(line),
  err: (line) => console.error(line),
})
