// Exportera: a briefing map (PDF/PNG) of the current view, made by the server.
import { T } from './strings.js';
import { $, option } from './dom.js';
import { app } from './state.js';
import { problemText } from './auth.js';
import { isoDay } from './time.js';

/** Exportera: a briefing map of the current view, made by the server. */
export function buildExport(c) {
  $('export-button').onclick = () => {
    $('export-panel').hidden = !$('export-panel').hidden;
    const area = $('export-area');
    const current = area.value;
    const all = document.createElement('option');
    all.value = ''; all.textContent = T.export.allAreas;
    area.replaceChildren(all, ...c.areaNames().map((n) => {
      const o = document.createElement('option');
      o.value = n; o.textContent = n;
      return o;
    }));
    area.value = current;
  };
  if (app.exporter) return;
  app.exporter = true;
  const form = $('export-form');
  form.elements.title.value = T.export.defaultTitle;
  form.elements.audience.value = T.export.defaultAudience;
  $('export-orientation').replaceChildren(...[['landscape', T.export.landscape], ['portrait', T.export.portrait]].map(([v, t]) => {
    const o = document.createElement('option');
    o.value = v; o.textContent = t;
    return o;
  }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = form.elements;
    const format = f.format.value;
    const [from, to] = c.view.range ?? [isoDay(new Date(Date.now() - (c.view.days - 1) * 86400000)), isoDay(new Date())];
    const p = new URLSearchParams({
      title: f.title.value, audience: f.audience.value, paper: f.paper.value,
      orientation: f.orientation.value, from, to,
      layers: ['incidents', 'risk_environments', 'cameras', 'patrol_routes']
        .filter((l) => c.grant(l) !== 'none' && !c.view.hidden.has(l)).join(','),
    });
    if (c.view.categories.size) p.set('category', [...c.view.categories].join(','));
    if (format === 'png') p.set('dpi', f.dpi.value);
    if ($('export-pack').checked && format === 'pdf') p.set('pack', c.areaNames().join(','));
    else if (f.area.value) p.set('area', f.area.value);
    $('export-result').textContent = T.export.working;
    $('export-link').hidden = true;
    try {
      const r = await fetch(`/exports/briefing.${format}?${p}`, { credentials: 'same-origin' });
      if (!r.ok) throw await problemText(r);
      const blob = await r.blob();
      const name = `lagesbild-${to}.${format}`;
      const link = $('export-link');
      URL.revokeObjectURL(link.href);
      link.href = URL.createObjectURL(blob);
      link.download = name;
      link.textContent = T.export.open;
      link.hidden = false;
      $('export-result').textContent = T.export.done(name, Math.round(blob.size / 1024));
    } catch (msg) {
      $('export-result').textContent = String(msg);
    }
  });
}

