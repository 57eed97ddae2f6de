// Planering: draw and save routes (plan.js), and log a walk done on one.
import { T } from './strings.js';
import { $, option } from './dom.js';
import { app } from './state.js';
import { send } from './api.js';
import { setupPlan } from './plan.js';
import { compareTable, fetchScores, scorePath } from './route-score.js';
import { fillDosage, setupDosage } from './dosage.js';

/** The planning panel, for roles that may create routes. */
export function buildPlan(me, c) {
  const may = me.layers.patrol_routes?.create && me.layers.patrol_routes.create !== 'none';
  $('plan-button').hidden = !may;
  if (!may || app.planner) return;
  $('plan-kind').replaceChildren(...Object.keys(c.symbols.patrol_routes.colors)
    .map((k) => option(k, T.values[k] ?? k)));
  const days = $('plan-weekdays');
  for (const [k, label] of Object.entries(T.plan.days)) {
    const l = document.createElement('label');
    const i = document.createElement('input');
    i.type = 'checkbox'; i.name = 'weekday'; i.value = k; i.checked = k === 'fri' || k === 'sat';
    l.append(i, document.createTextNode(label));
    days.append(l);
  }
  $('plan-button').onclick = async () => {
    $('plan-panel').hidden = !$('plan-panel').hidden;
    const mayLog = me.layers.walks?.create && me.layers.walks.create !== 'none';
    $('walk-form').hidden = !mayLog;
    if ($('plan-panel').hidden) return;
    const routes = await c.map.getSource('patrol_routes').getData();
    if (mayLog) $('walk-route').replaceChildren(...routes.features.map((f) => option(f.id, f.properties.name)));
    fillCompare(routes.features);
    fillDosage(me, routes.features);
  };
  setupDosage(me, c);
  // Saved routes side by side (for roles that count incidents at all).
  const mayScore = (me.layers.incidents?.read ?? 'none') !== 'none';
  function fillCompare(features) {
    const lines = features.filter((f) => f.geometry && f.geometry.type.endsWith('LineString'));
    $('plan-compare').hidden = !mayScore || lines.length === 0;
    $('plan-compare-routes').replaceChildren(...lines.map((f, i) => {
      const l = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox'; box.name = 'compare'; box.value = f.id; box.checked = i < 3;
      l.append(box, document.createTextNode(f.properties.name));
      return l;
    }));
  }
  async function compare() {
    const ids = [...$('plan-compare-routes').querySelectorAll('input:checked')].map((b) => b.value).slice(0, 10);
    if (!ids.length) { $('plan-compare-result').textContent = T.score.pick; return; }
    $('plan-compare-result').textContent = T.score.working;
    try {
      const body = await fetchScores(scorePath(c.windowParam(), { ids }));
      $('plan-compare-result').replaceChildren(compareTable(body));
    } catch (msg) {
      $('plan-compare-result').textContent = String(msg);
    }
  }
  $('plan-compare-button').onclick = compare;
  c.onWindow(() => { if (!$('plan-panel').hidden && $('plan-compare-result').firstChild?.tagName === 'TABLE') compare(); });
  $('walk-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData($('walk-form'));
    const routes = await c.map.getSource('patrol_routes').getData();
    const route = routes.features.find((f) => f.id === data.get('route'));
    if (!route) return;
    try {
      await send('POST', '/collections/walks/items', {
        type: 'Feature',
        geometry: route.geometry,
        properties: {
          route_id: route.id,
          // Written ÅÅÅÅ-MM-DD TT:MM (or with a T), in Swedish local time.
          started_at: new Date(String(data.get('started')).replace(' ', 'T')).toISOString(),
          ended_at: new Date(String(data.get('ended')).replace(' ', 'T')).toISOString(),
          walkers: Number(data.get('walkers')),
          report: String(data.get('report') || ''),
          // Stops ticked as done in the evening's plan for this route: cells and minutes only.
          stops: app.dosagePlan?.route === route.id
            ? [...document.querySelectorAll('#dosage-result input[name="done-stop"]:checked')]
              .map((b) => app.dosagePlan.stops[Number(b.value)])
              .map((s) => ({ cell: s.cell, arrived_at: s.arrive, minutes: s.minutes }))
            : [],
        },
      });
      $('walk-result').textContent = T.plan.walkSaved;
      $('walk-result').className = 'note sent';
    } catch (msg) {
      $('walk-result').textContent = T.plan.refused(String(msg));
      $('walk-result').className = 'note failed';
    }
  });
  app.planner = setupPlan(c, me, {
    draw: $('plan-draw'), undo: $('plan-undo'), clear: $('plan-clear'), length: $('plan-length'),
    coverage: $('plan-coverage'), score: $('plan-score'), form: $('plan-form'),
    suggest: $('plan-suggest'), useSuggestion: $('plan-use-suggestion'), suggestion: $('plan-suggestion'), result: $('plan-result'), editSelect: $('plan-edit'),
  }) ?? true;
}

