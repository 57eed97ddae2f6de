// Category, organisation and status filters for incidents.
import { T } from './strings.js';
import { $ } from './dom.js';

/** Category, organisation and status filters for incidents (only what the role can see). */
export async function buildFilters(c) {
  const box = $('filter-boxes');
  box.replaceChildren();
  const g = c.grant('incidents');
  if (g !== 'exact' && g !== 'coarse') { $('filters').hidden = true; return; }
  const groups = [['categories', 'category', T.filterCategory]];
  if (g === 'exact') groups.push(['organisations', 'organisation', T.filterOrganisation], ['statuses', 'status', T.filterStatus]);
  for (const [kind, prop, title] of groups) {
    const values = prop === 'category' ? Object.keys(c.symbols.incidents.colors) : await c.valuesOf(prop);
    const fieldset = document.createElement('fieldset');
    const legend = document.createElement('legend');
    legend.textContent = title;
    fieldset.append(legend);
    for (const v of values) {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.value = v;
      input.dataset.filter = kind;
      input.checked = c.view[kind].has(v);
      input.onchange = () => c.setFilter(kind,
        [...fieldset.querySelectorAll('input:checked')].map((i) => i.value));
      label.append(input, document.createTextNode(T.values[v] ?? v));
      fieldset.append(label);
    }
    box.append(fieldset);
  }
}

