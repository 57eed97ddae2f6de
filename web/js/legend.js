// The layer list: a tick box per layer the role may see, its note and legend from symbols.json.
import { T } from './strings.js';
import { $, swatch } from './dom.js';

function legendFor(layer, symbols, grant) {
  const ul = document.createElement('ul');
  ul.className = 'legend';
  if (grant === 'aggregate') {
    const steps = symbols.aggregate.steps;
    steps.forEach((n, i) => {
      const li = document.createElement('li');
      const sw = swatch(symbols.aggregate.color, 'cell');
      sw.style.opacity = String(0.35 + (0.55 * i) / (steps.length - 1));
      const upper = steps[i + 1] ? `–${steps[i + 1] - 1}` : '+';
      li.append(sw, document.createTextNode(`${n}${upper}`));
      ul.append(li);
    });
    return ul;
  }
  const entries = (colors, kind) => Object.entries(colors).forEach(([k, c]) => {
    const li = document.createElement('li');
    li.append(swatch(c, kind), document.createTextNode(T.values[k] ?? k));
    ul.append(li);
  });
  if (layer === 'incidents') entries(symbols.incidents.colors);
  if (layer === 'risk_environments') {
    entries(symbols.risk_environments.colors);
    const li = document.createElement('li');
    li.append(swatch(symbols.risk_environments.colors.medium, 'stale'), document.createTextNode(T.stale));
    ul.append(li);
  }
  if (layer === 'cameras') {
    entries(symbols.cameras.colors);
    const li = document.createElement('li');
    li.append(swatch(symbols.cameras.colors.active, 'stale'), document.createTextNode(T.staleCamera));
    ul.append(li);
    const zones = document.createElement('li');
    zones.textContent = T.cameraZones;
    ul.append(zones);
  }
  if (layer === 'measures') entries(symbols.measures.colors, 'ring');
  if (layer === 'patrol_routes') entries(symbols.patrol_routes.colors, 'line');
  return ul;
}

/** The layer list with legends. */
export function buildLayers(c) {
  const list = $('layer-list');
  list.replaceChildren();
  for (const layer of ['incidents', 'risk_environments', 'measures', 'cameras', 'patrol_routes', 'areas']) {
    const g = c.grant(layer);
    if (g === 'none') continue;
    const li = document.createElement('li');
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox'; box.checked = !c.view.hidden.has(layer); box.dataset.layer = layer;
    box.onchange = () => c.setVisible(layer, box.checked);
    label.append(box, document.createTextNode(T.layerNames[layer]));
    li.append(label);
    if (g === 'aggregate' || g === 'coarse') {
      const note = document.createElement('p');
      note.className = 'note';
      note.textContent = g === 'aggregate' ? T.aggregateNote : T.coarseNote;
      li.append(note);
    }
    li.append(legendFor(layer, c.symbols, g));
    list.append(li);
  }
}
