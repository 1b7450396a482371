// Building the page and saying numbers. Text always goes in as text nodes, never as HTML:
// what the API returns (names, reasons, descriptions) cannot become markup.

export function h(tag, props = {}, ...children) {
  return fill(document.createElement(tag), props, children);
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg(tag, props = {}, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), props, children);
}

function fill(element, props, children) {
  for (const [name, value] of Object.entries(props)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.setAttribute("class", value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return element;
}

// Amounts are minor units (BigInt strings) with an ISO 4217 code: "550000", "EUR" -> "5,500.00 EUR".
export function money(minor, currency) {
  const digits = fractionDigits(currency);
  let value = BigInt(minor);
  const sign = value < 0n ? "−" : "";
  if (value < 0n) value = -value;
  const scale = 10n ** BigInt(digits);
  const whole = (value / scale).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = digits ? "." + (value % scale).toString().padStart(digits, "0") : "";
  return `${sign}${whole}${fraction} ${currency}`;
}

function fractionDigits(currency) {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions()
      .maximumFractionDigits;
  } catch {
    return 2;
  }
}

// parts of a whole (ppm, basis points) as a percentage: (999500, 1e6) -> "99.95 %"
export function percent(value, whole) {
  return `${Number(((value * 100) / whole).toFixed(4))} %`;
}

export function duration(seconds) {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function time(iso) {
  const moment = new Date(iso);
  return h(
    "time",
    { datetime: moment.toISOString() },
    moment.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" }),
  );
}

// "in 5 s", "12 s ago", for moments close by
export function relative(iso, now = Date.now()) {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const span = duration(Math.abs(seconds));
  return seconds > 0 ? `in ${span}` : `${span} ago`;
}

// A record's id as a person reads it: "Invoice:7" -> "7", "SlaCredit:3-24321" -> "3-24321".
// For display only: the API is always sent the full id, exactly as it gave it.
export function shortId(id) {
  if (id === null || id === undefined) return "";
  const text = String(id);
  const colon = text.indexOf(":");
  return colon < 0 ? text : text.slice(colon + 1);
}

export function shortAddress(address) {
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

// Who an address is, by the members' register: "Borealis Networks", else a short address.
export function nameOf(members, address) {
  return members.get(address.toLowerCase()) ?? shortAddress(address);
}

// A table that reads as cards on a phone: each cell carries its column's name.
export function table(caption, columns, rows) {
  return h(
    "table",
    { class: "cards" },
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      {},
      rows.map((cells) =>
        h("tr", {}, cells.map((cell, i) => h("td", { "data-label": columns[i] }, cell))),
      ),
    ),
  );
}
