// Accessibility of the map client in a real browser (Debian's Chromium, playwright-core):
// axe-core (WCAG 2.1 A and AA rules) on every view a user meets — the sign-in page, the map,
// the panels and dialogs, meeting mode (its contrast on the projector) — and the main tasks
// done with the keyboard alone. Run by tests/web.rs, which starts the server and passes BASE,
// POLICE_USER/POLICE_PASS and ARTIFACTS. Fails on any violation, naming the rule and the nodes.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');
const base = process.env.BASE;
const artifacts = process.env.ARTIFACTS;
mkdirSync(artifacts, { recursive: true });

const check = (ok, what) => { if (!ok) throw new Error(what); console.log(`ok - ${what}`); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
});

/** Runs axe-core's WCAG 2.1 A/AA rules on the page as it is; fails listing every violation. */
async function audit(page, what) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    await page.addScriptTag({ path: axePath });
  }
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`),
    }));
  });
  const lines = result.map((v) => `  ${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    - ${n}`).join('\n')}`);
  check(result.length === 0, `axe-core finds no WCAG 2.1 AA violation: ${what}${lines.length ? '\n' + lines.join('\n') : ''}`);
}

/** The element that has the keyboard focus: its id, tag, role and accessible name. */
const focused = (page) => page.evaluate(() => {
  const e = document.activeElement;
  return e ? { id: e.id, tag: e.tagName, role: e.getAttribute('role'), inLayers: e.closest('#layer-list') !== null,
    name: e.getAttribute('aria-label') || e.textContent.trim().slice(0, 40) } : null;
});

/** Presses Tab until `test(focused)` holds (at most `max` times); returns the element or null. */
async function tabTo(page, test, max = 80) {
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (f && test(f)) return f;
  }
  return null;
}

/** Whether the focused element shows a visible focus indicator (outline or box-shadow). */
const focusVisible = (page) => page.evaluate(() => {
  const s = getComputedStyle(document.activeElement);
  return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
});

try {
  // bypassCSP: axe-core is injected as an inline script (the server's CSP is tested by smoke.mjs).
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'sv-SE', bypassCSP: true });
  const page = await context.newPage();
  // 1. Signing in with the keyboard alone.
  await page.goto(base + '/');
  await page.waitForSelector('#login-form');
  await audit(page, 'the sign-in page');
  check(await tabTo(page, (f) => f.id === 'username') !== null, 'Tab reaches the user name');
  await page.keyboard.type(process.env.POLICE_USER);
  await page.keyboard.press('Tab');
  check((await focused(page)).id === 'password', 'Tab goes on to the password');
  await page.keyboard.type(process.env.POLICE_PASS);
  await page.keyboard.press('Enter');
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  await page.evaluate(() => new Promise((r) => (window.lagesbild.map.loaded() ? r() : window.lagesbild.map.once('idle', r))));
  check(true, 'signed in with the keyboard alone');
  await audit(page, 'the map, signed in as police');
  await page.screenshot({ path: join(artifacts, 'a11y-01-map.png') });
  // 2. The main tasks with the keyboard alone.
  const mapState = () => page.evaluate(() => { const m = window.lagesbild.map; return { zoom: m.getZoom(), lng: m.getCenter().lng }; });
  const settle = () => page.evaluate(() => new Promise((r) => { const m = window.lagesbild.map; if (!m.isMoving()) { m.triggerRepaint(); } m.once('idle', r); }));
  // The map takes the focus, shows its centre, zooms with + and pans with the arrows.
  check(await tabTo(page, (f) => f.tag === 'CANVAS') !== null, 'Tab reaches the map');
  check((await focused(page)).name.startsWith('Karta.'), 'the map says in Swedish how to use it with keys');
  check(await page.evaluate(() => getComputedStyle(document.querySelector('.map-crosshair')).display === 'block'), 'the focused map shows a crosshair at its centre');
  check(await focusVisible(page), 'the focused map has a visible focus ring');
  const before = await mapState();
  await page.keyboard.press('+');
  await settle();
  const zoomed = await mapState();
  check(zoomed.zoom > before.zoom + 0.5, `+ zooms in (${before.zoom.toFixed(2)} → ${zoomed.zoom.toFixed(2)})`);
  await page.keyboard.press('ArrowRight');
  await settle();
  check((await mapState()).lng > zoomed.lng, 'the right arrow moves the map east');
  // Enter shows the feature at the crosshair: put an incident there first.
  const target = await page.evaluate(() => new Promise((r) => {
    const m = window.lagesbild.map;
    m.jumpTo({ center: [17.8448, 59.2393], zoom: 15 });
    m.once('idle', () => {
      const f = m.queryRenderedFeatures({ layers: ['incidents'] })[0];
      if (!f) { r(null); return; }
      m.jumpTo({ center: f.geometry.coordinates });
      m.once('idle', () => r(f.properties.category));
    });
  }));
  check(target !== null, 'an incident is on the map near Alby');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.maplibregl-popup table.details', { timeout: 5000 });
  check(await page.evaluate(() => document.activeElement.classList.contains('maplibregl-popup-close-button')), 'Enter on the map opens the feature under the crosshair, and its close button takes the focus');
  check((await focused(page)).name === 'Stäng', 'the close button is named in Swedish');
  await audit(page, 'a feature popup opened from the keyboard');
  await page.keyboard.press('Escape');
  check(await page.evaluate(() => document.querySelectorAll('.maplibregl-popup').length === 0 && document.activeElement.tagName === 'CANVAS'), 'Escape closes the popup and the focus is back on the map');
  // Nothing at the centre: said, not silent.
  await page.evaluate(() => new Promise((r) => { const m = window.lagesbild.map; m.jumpTo({ center: [17.70, 59.30], zoom: 16 }); m.once('idle', r); }));
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.body.textContent.includes('Inget objekt vid kartans mitt'), null, { timeout: 5000 });
  check(true, 'Enter with nothing under the crosshair says so');
  // A place for a report is picked with the keyboard: the crosshair's position, even where
  // nothing is drawn.
  await page.focus('#report-button');
  await page.keyboard.press('Enter');
  await page.focus('#report-pick');
  await page.keyboard.press('Enter');
  await page.focus('.maplibregl-canvas');
  const centre = await page.evaluate(() => window.lagesbild.map.getCenter().toArray());
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /\d/.test(document.getElementById('report-position').textContent), null, { timeout: 5000 });
  const shown = await page.textContent('#report-position');
  check(shown.includes(centre[1].toFixed(4).replace('.', ',')) || shown.includes(centre[1].toFixed(4)) || shown.includes(centre[1].toFixed(5)),
    `Enter on the map picks the crosshair's place for a report (${shown.trim()}; centre ${centre.map((v) => v.toFixed(5)).join(', ')})`);
  await page.focus('#report-button');
  await page.keyboard.press('Enter');
  // A layer is switched off and on with the space bar.
  await page.focus('#meeting-button');
  const box = await tabTo(page, (f) => f.tag === 'INPUT' && f.inLayers);
  check(box !== null, 'Tab reaches the layer switches');
  const layerOf = () => page.evaluate(() => document.activeElement.closest('li')?.textContent.trim());
  const checkedNow = () => page.evaluate(() => document.activeElement.checked);
  const wasChecked = await checkedNow();
  await page.keyboard.press('Space');
  check((await checkedNow()) !== wasChecked, `the space bar switches a layer (${await layerOf()})`);
  await page.keyboard.press('Space');
  check((await checkedNow()) === wasChecked, 'and back');
  // The export dialog opens with Enter and is filled from the keyboard.
  await page.focus('#meeting-button');
  check(await tabTo(page, (f) => f.id === 'export-button') !== null, 'Tab reaches Exportera');
  await page.keyboard.press('Enter');
  check(await page.evaluate(() => !document.getElementById('export-panel').hidden), 'Enter opens the export dialog');
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement.closest('#export-panel') !== null), 'the next Tab is inside the export dialog');
  await page.focus('#export-button');
  await page.keyboard.press('Enter');
  check(await page.evaluate(() => document.getElementById('export-panel').hidden), 'Enter on Exportera again closes it');
  // Meeting mode from the keyboard: on, the next area, off.
  await page.focus('#meeting-button');
  await page.keyboard.press('Enter');
  check(await page.evaluate(() => document.body.classList.contains('meeting')), 'Enter starts meeting mode');
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => document.getElementById('area-heading').textContent.length > 0, null, { timeout: 5000 });
  check(true, `the right arrow brings the next area (${await page.textContent('#area-heading')})`);
  await page.keyboard.press('Escape');
  check(await page.evaluate(() => !document.body.classList.contains('meeting')), 'Escape leaves meeting mode');

  // 3. Every panel and dialog, as it opens.
  for (const [button, panel, what] of [['#export-button', '#export-panel', 'the export dialog'], ['#plan-button', '#plan-panel', 'the planning panel'],
    ['#report-button', '#report-panel', 'the report form'], ['#coverage-button', null, 'the camera coverage']]) {
    await page.click(button);
    await page.waitForTimeout(400);
    if (panel) check(await page.isVisible(panel), `${what} is open`);
    await audit(page, what);
    await page.keyboard.press('Escape');
    if (button === '#plan-button' || button === '#coverage-button') await page.click(button);
  }
  await page.click('#filters summary');
  await audit(page, 'the filters, open');
  await page.click('#filters summary');
  // A feature's popup.
  await page.evaluate(() => new Promise((r) => { const m = window.lagesbild.map; m.jumpTo({ center: [17.8448, 59.2393], zoom: 15 }); m.once('idle', r); }));
  const at = await page.evaluate(() => {
    const m = window.lagesbild.map;
    const f = m.queryRenderedFeatures({ layers: m.getStyle().layers.filter((l) => l.id.startsWith('incidents')).map((l) => l.id) })[0];
    return f ? m.project(f.geometry.coordinates) : null;
  });
  if (at) {
    await page.mouse.click(at.x, at.y + (await page.evaluate(() => document.getElementById('map').getBoundingClientRect().top)));
    await page.waitForTimeout(400);
    await audit(page, 'a feature popup');
    await page.keyboard.press('Escape');
  }
  // 4. Meeting mode, where the projector needs contrast.
  await page.click('#meeting-button');
  await page.keyboard.press('ArrowRight');
  await page.waitForTimeout(600);
  await audit(page, 'meeting mode with an area chosen');
  await page.screenshot({ path: join(artifacts, 'a11y-02-meeting.png') });
  await page.keyboard.press('Escape');
  // 5. The security coordinator runs the meeting: the agenda and its controls, on black.
  const coord = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'sv-SE', bypassCSP: true })).newPage();
  await coord.goto(base + '/');
  await coord.waitForSelector('#login-form');
  await coord.fill('#username', process.env.COORD_USER);
  await coord.fill('#password', process.env.COORD_PASS);
  await coord.press('#password', 'Enter');
  await coord.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  await coord.click('#meeting-button');
  await coord.waitForSelector('#agenda-next', { state: 'visible', timeout: 10000 });
  await coord.keyboard.press('ArrowRight');
  await coord.waitForTimeout(600);
  await audit(coord, "the coordinator's meeting with its agenda");
  await coord.screenshot({ path: join(artifacts, 'a11y-03-agenda.png') });
} catch (e) {
  console.error(e.stack || String(e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
