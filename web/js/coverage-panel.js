// Kamerornas täckning: how much of what happens in the time window the working cameras see,
// with the interval for position error said beside the share, the hot cells seen least and
// sites for the next cameras (drawn on the map). For roles that see cameras exactly.
import { T } from './strings.js';
import { $, text } from './dom.js';
import { getJson } from './api.js';

const pct = (x) => `${Math.round(x * 1000) / 10} %`.replace('.', ',');

/** The coverage panel and its button. */
export function buildCoverage(me, c) {
  const may = me.layers.cameras?.read === 'exact' && (me.layers.incidents?.read ?? 'none') !== 'none';
  $('coverage-button').hidden = !may;
  if (!may) return;
  text('coverage-button', T.coverage.button);
  text('coverage-heading', T.coverage.heading);
  $('coverage-button').onclick = () => {
    const panel = $('coverage-panel');
    panel.hidden = !panel.hidden;
    if (panel.hidden) { c.showCoverage(null); return undefined; }
    return fill(c);
  };
  // An open panel follows the time window.
  c.onWindow(() => { if (!$('coverage-panel').hidden) fill(c); });
}

/** Asks for the report of the window shown and fills the panel and the map. */
async function fill(c) {
  text('coverage-summary', T.coverage.working);
  let r;
  try {
    r = await getJson(`/analysis/camera-coverage?datetime=${encodeURIComponent(c.windowParam())}`);
  } catch (msg) {
    text('coverage-summary', String(msg));
    return;
  }
  // Closed while it was asked for: nothing to draw.
  if ($('coverage-panel').hidden) return;
  text('coverage-partial', r.cameras.partial ? T.coverage.partial(r.cameras.matched) : '');
  if (!r.incidents) {
    text('coverage-summary', T.coverage.none);
    $('coverage-cells').replaceChildren();
    $('coverage-sites').replaceChildren();
    text('coverage-cells-note', '');
    text('coverage-sites-note', '');
    c.showCoverage(null);
    return;
  }
  const any = r.covered.any;
  const id = r.covered.identification;
  text('coverage-summary', T.coverage.summary(r.incidents, pct(any.share), pct(any.interval[0]), pct(any.interval[1]),
    pct(id.share), r.position_error_m, r.cameras.working, r.cameras.with_resolution, r.input === 'cell_counts'));
  const cells = r.least_covered_hot_cells.features.map((f) => {
    const li = document.createElement('li');
    li.textContent = T.coverage.cell(f.id, f.properties.count, pct(f.properties.share));
    return li;
  });
  $('coverage-cells').replaceChildren(...cells);
  text('coverage-cells-note', r.hot_cells_note ? T.coverage.noHotCells(r.hot_cells_note) : T.coverage.cellsHeading);
  const sites = r.sites.features.map((f) => {
    const li = document.createElement('li');
    li.textContent = T.coverage.site(f.properties.rank, f.properties.adds, r.reach_m);
    return li;
  });
  $('coverage-sites').replaceChildren(...sites);
  text('coverage-sites-note', sites.length ? T.coverage.sitesHeading : T.coverage.noSites);
  c.showCoverage(r);
}
