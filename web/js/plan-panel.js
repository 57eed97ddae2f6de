// Planering: draw and save routes (plan.js), and log a walk done on one.
import { T } from './strings.js';
import { $, option } from './dom.js';
import { app } from './state.js';
import { send } from './api.js';
import { setupPlan } from './plan.js';

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
    if (!$('plan-panel').hidden && mayLog) {
      const routes = await c.map.getSource('patrol_routes').getData();
      $('walk-route').replaceChildren(...routes.features.map((f) => option(f.id, f.properties.name)));
    }
  };
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
          started_at: new Date(String(data.get('started'))).toISOString(),
          ended_at: new Date(String(data.get('ended'))).toISOString(),
          walkers: Number(data.get('walkers')),
          report: String(data.get('report') || ''),
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
    coverage: $('plan-coverage'), form: $('plan-form'), result: $('plan-result'), editSelect: $('plan-edit'),
  }) ?? true;
}

