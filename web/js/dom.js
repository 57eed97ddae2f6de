// Small DOM helpers shared by the panels.
export const $ = (id) => document.getElementById(id);
export const text = (id, s) => { $(id).textContent = s; };

/** An <option> with a value and a label. */
export function option(value, label) {
  const o = document.createElement('option');
  o.value = value; o.textContent = label;
  return o;
}

export function swatch(color, kind = '') {
  const s = document.createElement('span');
  s.className = `swatch ${kind}`;
  s.style.background = color;
  return s;
}

