// Rapportera: the report form's panel (the queue itself is in report.js).
import { T } from './strings.js';
import { $, option } from './dom.js';
import { app } from './state.js';
import { setupReport } from './report.js';

/** The report panel, for roles that may create incidents. */
export function buildReport(me, c) {
  const may = me.layers.incidents?.create && me.layers.incidents.create !== 'none';
  $('report-button').hidden = !may;
  if (!may || app.reporter) return;
  $('report-category').replaceChildren(...Object.keys(c.symbols.incidents.colors)
    .map((k) => option(k, T.values[k] ?? k)));
  $('report-button').onclick = () => { $('report-panel').hidden = !$('report-panel').hidden; };
  app.reporter = setupReport({
    form: $('report-form'),
    list: $('report-log'),
    pickButton: $('report-pick'),
    hereButton: $('report-here'),
    position: $('report-position'),
    pickPoint: () => new Promise((resolve) => {
      c.map.getCanvas().style.cursor = 'crosshair';
      c.pickOnce((lngLat) => { c.map.getCanvas().style.cursor = ''; resolve([lngLat.lng, lngLat.lat]); });
    }),
  });
}

