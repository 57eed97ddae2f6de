// How many incidents the map client draws well as GeoJSON (issue 14), measured in Debian's
// Chromium (software WebGL: no GPU in a headless browser, so a meeting-room PC draws faster)
// on the real client: signed in, the app's own layers hidden, then N synthetic incidents as one
// GeoJSON source drawn with the incidents' own style, for N in turn. For each N:
//
// - parse: JSON.parse of N features as the server writes them (about 450 bytes each);
// - load: setData until the map is idle (MapLibre cuts the GeoJSON into tiles in a worker);
// - pan: a 2 s animated pan across the points: frames drawn, median and 95th percentile frame
//   time.
//
// Run by scripts/bench-browser, which starts a server and passes BASE, USER_NAME, USER_PASS.
import { chromium } from 'playwright-core';

const base = process.env.BASE;
const sizes = (process.env.SIZES || '0,1000,2000,5000,10000,20000,40000').split(',').map(Number);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'sv-SE' });
  const page = await context.newPage();
  await page.goto(base + '/');
  await page.waitForSelector('#login-form');
  await page.fill('#username', process.env.USER_NAME);
  await page.fill('#password', process.env.USER_PASS);
  await page.click('#login-button');
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60000 });
  console.log('N        parse ms   load ms   pan frames   frame p50 ms   frame p95 ms');
  for (const n of sizes) {
    const r = await page.evaluate(async (n) => {
      const m = window.lagesbild.map;
      const idle = () => new Promise((res) => { m.triggerRepaint(); m.once('idle', res); });
      for (const l of m.getStyle().layers) {
        if (l.id !== 'background' && !l.id.startsWith('areas')) m.setLayoutProperty(l.id, 'visibility', 'none');
      }
      m.jumpTo({ center: [17.8448, 59.2393], zoom: 13 });
      await idle();
      // N incidents spread over the view as the server writes them.
      const categories = ['car_fire', 'shooting', 'vandalism', 'threat_violence', 'disorder_gathering', 'other'];
      const b = m.getBounds();
      let seed = 42;
      const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
      const features = [];
      for (let i = 0; i < n; i++) {
        features.push({ type: 'Feature', id: `0b7e${String(i).padStart(8, '0')}-1c2d-4e5f-8a9b-${String(i).padStart(12, '0')}`,
          geometry: { type: 'Point', coordinates: [
            Number((b.getWest() + rand() * (b.getEast() - b.getWest())).toFixed(7)),
            Number((b.getSouth() + rand() * (b.getNorth() - b.getSouth())).toFixed(7))] },
          properties: { category: categories[i % categories.length], status: 'reported', occurred_at: '2026-11-20T21:14:00Z',
            severity: 2, description: 'Brand i bil på parkering', organisation: 'Polisen', classification: 'internal',
            created_at: '2026-11-20T21:30:00Z', updated_at: '2026-11-20T21:30:00Z', created_by: 'polis', version: 1 } });
      }
      const text = JSON.stringify({ type: 'FeatureCollection', features });
      let t = performance.now();
      const fc = JSON.parse(text);
      const parse = performance.now() - t;
      if (!m.getSource('bench')) {
        m.addSource('bench', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
        const s = m.getLayer('incidents') ? m.getPaintProperty('incidents', 'circle-color') : '#D55E00';
        m.addLayer({ id: 'bench', source: 'bench', type: 'circle',
          paint: { 'circle-radius': 6, 'circle-color': s, 'circle-stroke-color': '#FFFFFF', 'circle-stroke-width': 1 } });
      }
      t = performance.now();
      m.getSource('bench').setData(fc);
      await idle();
      const load = performance.now() - t;
      // A 2 s pan, frames timed by the browser's own clock.
      const frames = [];
      let last = performance.now();
      let running = true;
      const tick = (now) => { frames.push(now - last); last = now; if (running) requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
      m.panBy([600, 300], { duration: 2000, easing: (x) => x });
      await new Promise((res) => m.once('moveend', res));
      running = false;
      frames.shift();
      frames.sort((a, b) => a - b);
      const q = (p) => frames[Math.min(frames.length - 1, Math.floor(p * frames.length))] ?? NaN;
      return { parse, load, count: frames.length, p50: q(0.5), p95: q(0.95) };
    }, n);
    console.log(`${String(n).padEnd(8)} ${r.parse.toFixed(0).padStart(8)} ${r.load.toFixed(0).padStart(9)} ${String(r.count).padStart(12)} ${r.p50.toFixed(1).padStart(14)} ${r.p95.toFixed(1).padStart(14)}`);
  }
} finally {
  await browser.close();
}
