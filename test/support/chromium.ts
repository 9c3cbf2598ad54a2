// A page of a local file in Debian's headless Chromium (playwright-core drives it): every console error,
// page error and request leaving file:// is collected, so a test can assert the page stayed offline and quiet.
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import type {Browser, Page} from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

export interface OpenPage {
  page: Page
  errors: string[]
  close: () => Promise<void>
}

export async function openFile(file: string): Promise<OpenPage> {
  const {chromium} = await import('playwright-core')
  const browser: Browser = await chromium.launch({executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync']})
  try {
    const page = await browser.newPage({viewport: {width: 1280, height: 900}})
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(String(e)))
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
    page.on('request', (req) => !req.url().startsWith('file:') && errors.push(`network request: ${req.url()}`))
    await page.goto(`file://${file}`)
    return {page, errors, close: () => browser.close()}
  } catch (error) {
    await browser.close()
    throw error
  }
}

/** A full-page screenshot kept under test/.artifacts/NAME.png (for a look after the run); its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = join(new URL('../..', import.meta.url).pathname, 'test/.artifacts')
  mkdirSync(dir, {recursive: true})
  const shot = join(dir, `${name}.png`)
  await page.screenshot({path: shot, fullPage: true})
  return shot
}
