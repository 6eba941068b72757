/// <reference lib="dom" />
/**
 * The inspector in a real browser: Debian's chromium driven by playwright-core opens the page of
 * a running paper engine, checks the statechart is drawn with the current state lit, sees the
 * highlight move after a transition, and saves a screenshot under test-output/.
 * Without chromium (a user's machine) the test says so and is skipped; in CI it must run.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, startCli } from '../cli/cli-helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  if (process.env.CI)
    throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium for the browser test`);
  console.warn(`inspector browser test skipped: no ${CHROMIUM} (apt-get install -y chromium to run it)`);
}

const children: ReturnType<typeof startCli>[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

describe.runIf(hasChromium)('inspector in chromium', () => {
  it('draws the statechart, lights the current state and follows transitions live', {
    timeout: 90_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'statearb-inspector-'));
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        dataDir: join(dir, 'data'),
        venues: { binance: { type: 'simulated', latencyMs: 5 } },
        logging: { level: 'warn', pretty: false },
        inspector: { controls: true },
        strategies: [
          {
            id: 'basis-btc',
            kind: 'spot-futures',
            // Enter at any basis and leave after ~1.5 s: a transition every second or so.
            params: {
              spot: { venue: 'binance', symbol: 'BTC/USDT' },
              perp: { venue: 'binance', symbol: 'BTC/USDT:USDT' },
              amount: 0.01,
              minEntryBasisBps: -500,
              exitBasisBps: -600,
              maxEntryCostPct: 5,
              maxHoldingHours: 1.5 / 3600,
              cooldownMs: 1_000,
            },
          },
          {
            id: 'maker-eth',
            kind: 'market-making',
            params: {
              market: { venue: 'binance', symbol: 'ETH/USDT:USDT' },
              orderAmount: 0.05,
              spreadBps: 2,
              maxInventoryBase: 0.5,
            },
          },
        ],
      }),
    );
    const engine = startCli([
      'inspect',
      '--config',
      config,
      '--inspect=0',
      '--status-every-ms',
      '60000',
      '--duration-s',
      '80',
    ]);
    children.push(engine);
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: engine.stderr! }).on('line', (l) => {
        const m = /^inspector: (http:\/\/\S+)/.exec(l);
        if (m) resolve(m[1]!);
      });
      engine.once('exit', (code) => reject(new Error(`engine exited ${code} before the inspector listened`)));
    });

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const foreign: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(url.replace(/\/$/, ''))) foreign.push(r.url());
      });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${url}#basis-btc`);
      // The strategy list, then the diagram with every top-level state of the machine.
      await page.waitForSelector('#strategies tbody tr[data-id="maker-eth"]');
      await page.waitForSelector('#diagram svg g.state.active.leaf', { timeout: 20_000 });
      const states = await page.$$eval('#diagram g.state', (gs) =>
        gs.map((g) => g.getAttribute('data-state-id')),
      );
      for (const s of [
        'watching',
        'entering',
        'holding',
        'exiting',
        'cooldown',
        'completed',
        'stopped',
        'needsAttention',
      ])
        expect(states).toContain(`spotFutures.${s}`);
      expect(await page.$$eval('#diagram path.edge', (ps) => ps.length)).toBeGreaterThan(10);
      const active = () => page.$eval('#diagram g.state.active.leaf', (g) => g.getAttribute('data-state-id'));
      // The diagram and the badge agree (read together: the machine moves between two reads).
      const [first, badge] = await page.evaluate(() => [
        document.querySelector('#diagram g.state.active.leaf')?.getAttribute('data-state-id'),
        document.querySelector('#sel-state')?.textContent,
      ]);
      expect(first).toBe(`spotFutures.${badge}`);
      // The highlight moves when the machine does.
      await page.waitForFunction(
        (before) =>
          document.querySelector('#diagram g.state.active.leaf')?.getAttribute('data-state-id') !== before,
        first,
        { timeout: 20_000 },
      );
      const second = await active();
      expect(second).not.toBe(first);
      // The event log and the panels follow too.
      await page.waitForSelector('#events li', { timeout: 10_000 });
      expect(await page.$eval('#legs tbody', (b) => b.children.length)).toBe(2);
      mkdirSync(join(ROOT, 'test-output'), { recursive: true });
      await page.screenshot({ path: join(ROOT, 'test-output', 'inspector.png'), fullPage: true });
      // Another strategy: a parallel machine (one region per ladder slot).
      await page.click('#strategies tbody tr[data-id="maker-eth"]');
      await page.waitForSelector('#diagram svg[data-machine="marketMaker"] g.state.parallel.active', {
        timeout: 20_000,
      });
      await page.screenshot({ path: join(ROOT, 'test-output', 'inspector-maker.png'), fullPage: true });
      // Stop asks first, offering to flatten; cancelling sends nothing.
      await page.click('#controls button[data-action="stop"]');
      await page.waitForSelector('#confirm:not([hidden])');
      expect(await page.isVisible('#confirm-flatten')).toBe(true);
      expect(await page.isVisible('#confirm-keep')).toBe(true);
      await page.screenshot({
        path: join(ROOT, 'test-output', 'inspector-stop-confirm.png'),
        fullPage: true,
      });
      await page.click('#confirm-cancel');
      expect(await page.isHidden('#confirm')).toBe(true);
      // Resolve is refused for a strategy that does not need attention, and the page says so.
      await page.click('#controls button[data-action="resolve"]');
      await page.click('#confirm-yes');
      await page.waitForFunction(() =>
        /resolve maker-eth: refused/.test(document.querySelector('#sel-attention')?.textContent ?? ''),
      );
      expect(foreign).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      engine.kill('SIGTERM');
    }
  });
});
