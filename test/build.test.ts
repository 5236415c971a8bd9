import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = new URL('../', import.meta.url).pathname

describe('the production build', () => {
  // The same steps as the Dockerfile: pack (which builds), install production dependencies
  // only, start the compiled server with the Dockerfile's own command.
  it('runs from the packed package with production dependencies only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pack-'))
    execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root, stdio: 'ignore' })
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!
    execFileSync('tar', ['-xzf', tarball], { cwd: dir })
    const app = join(dir, 'package')
    copyFileSync(join(root, 'package-lock.json'), join(app, 'package-lock.json'))
    execFileSync('npm', ['ci', '--omit=dev', '--silent', '--no-audit', '--no-fund'], { cwd: app, stdio: 'ignore' })
    expect(existsSync(join(app, 'src'))).toBe(false) // no TypeScript sources
    for (const dev of ['typescript', 'tsx', 'vitest', 'yaml', 'ajv']) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false)

    const [node, ...args] = JSON.parse(/^CMD (\[.*\])\s*$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))![1]!) as string[]
    expect(node).toBe('node')
    expect(args.at(-1)).toBe('dist/server.js')
    const server = spawn(process.execPath, args, { cwd: app, env: { ...process.env, PORT: '0', OPENAI_API_KEY: 'sk-canary-build-0000' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    server.stdout.on('data', (d: Buffer) => (out += d))
    const url = await new Promise<string>((resolve, reject) => {
      server.stdout.on('data', () => {
        const line = out.split('\n').find((l) => l.includes('"listening"'))
        if (line) resolve(JSON.parse(line).url as string)
      })
      server.once('exit', (code) => reject(new Error(`exited with ${code}`)))
    })
    const res = await fetch(`${url}v1/models`)
    expect(res.status).toBe(200)
    expect(((await res.json()).data as { id: string }[]).map((m) => m.id)).toContain('gpt-5.1')
    // The dashboard's files ship in the package (public/), found from dist/routes.
    const page = await fetch(url)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await page.text()).toContain('<title>Model catalog</title>')
    for (const asset of ['dashboard.js', 'dashboard.css']) expect((await fetch(`${url}${asset}`)).status, asset).toBe(200)
    server.kill('SIGTERM')
    expect((await once(server, 'exit'))[0]).toBe(0)
  }, 240_000)
})
