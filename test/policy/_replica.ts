// One gateway replica for the multi-process tests, as a process of its own: the proxy catalog
// and the fixture's teams (test/fixtures), the environment as given (REDIS_URL, PORT...).
import { readFileSync } from 'node:fs'
import { nodeHandler } from '../../src/node-handler.ts'
import { compileCatalog } from '../../scripts/compiler/compile.ts'
import { compileTeams } from '../../scripts/compiler/teams.ts'
import { bufferedStdout, createApp } from '../../src/app.ts'
import { listen } from '../../src/listen.ts'

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')
const catalog = compileCatalog(fixture('proxy.yaml'), 'proxy.yaml', new Date('2026-11-21T12:00:00Z')).catalog!
const policy = compileTeams(fixture('teams.yaml'), catalog).policy!
const log = bufferedStdout()
const { app, gateway } = createApp({ catalog, env: process.env, log, policy })
const listener = await listen(nodeHandler(app), gateway.config)
console.log(JSON.stringify({ message: 'listening', url: listener.url }))
process.once('SIGTERM', () => void gateway.close().then(() => (log.flush(), process.exit(0))))
