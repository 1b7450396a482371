// The CFO's view: the balance with each counterparty (payable against receivable, as the
// API sums them in `counterpartyBalances`, drawn here as bars), what the amounts are made
// of (`liabilities`), the SLA credits awaiting the member's endorsement with Endorse and
// Dispute, invoices and settlement cycles. Every number is the API's; nothing is summed here.

import { ApiError, graphql, mutate } from "./api.js";
import { duration, h, money, nameOf, percent, shortId, svg, table, time } from "./format.js";

const CFO = `query Cfo {
  members(first: 100, includeFormer: true) { edges { node { address name } } }
  counterpartyBalances { counterparty currency payable receivable net }
  liabilities { counterparty currency direction creditsCalculated creditsEndorsed invoiced }
  slaCredits(first: 100) {
    edges { node { id serviceId period buyer seller currency state amount creditBps
                   availabilityPpm outageSeconds endorsedByBuyer endorsedBySeller } }
    pageInfo { hasNextPage }
  }
  invoices(first: 100) {
    edges { node { id seller buyer period currency state charges credits amountDue cycleId } }
    pageInfo { hasNextPage }
  }
  settlementCycles(first: 100) {
    edges { node { id currency state openedAt asSeller asBuyer net
                   payments { index payer payee amount confirmedByPayer confirmedByPayee } } }
  }
}`;
const CREDIT_ANSWER = "errors { code message field }";
const ENDORSE = `mutation($input: SlaPeriodInput!) {
  endorseSlaCredit(input: $input) { ${CREDIT_ANSWER} } }`;
const DISPUTE = `mutation($input: DisputeSlaCreditInput!) {
  disputeSlaCredit(input: $input) { ${CREDIT_ANSWER} } }`;
const TICKETS = `query($serviceId: ID!) {
  troubleTickets(serviceId: $serviceId, first: 100) {
    edges { node { id number impact state startedAt endedAt } }
  }
}`;
const STATE_IN_WORDS = {
  generated: "Generated",
  paymentDue: "Payment due",
  settled: "Settled",
  open: "Open",
  calculated: "Calculated",
  endorsed: "Endorsed",
  disputed: "Disputed",
};

let app; // { me, announce, announceError }
let members = new Map();

export function initCfo(context) {
  app = context;
  document.getElementById("cfo-refresh").addEventListener("click", () => loadCfo());
}

const SECTIONS = [
  "balances-chart",
  "balances-table",
  "liabilities-table",
  "credit-list",
  "invoice-table",
  "cycle-table",
];

// Signing out leaves no commercial record in the page.
export function clearCfo() {
  for (const id of SECTIONS) document.getElementById(id).replaceChildren();
}

export async function loadCfo() {
  try {
    const data = await graphql(CFO);
    if (!app.me) return; // signed out meanwhile
    members = new Map(data.members.edges.map(({ node }) => [node.address.toLowerCase(), node.name]));
    renderBalances(data.counterpartyBalances);
    renderLiabilities(data.liabilities);
    renderCredits(data.slaCredits);
    renderInvoices(data.invoices);
    renderCycles(data.settlementCycles.edges.map((e) => e.node));
  } catch (error) {
    app.announceError(error);
  }
}

const words = (state) => STATE_IN_WORDS[state] ?? state;
const nothing = (text) => h("p", { class: "note" }, text);

// ------------------------------------------------------------------ balances

function renderBalances(balances) {
  const chart = document.getElementById("balances-chart");
  const rows = document.getElementById("balances-table");
  if (!balances.length) {
    chart.replaceChildren(nothing("Nothing outstanding with any counterparty."));
    rows.replaceChildren();
    return;
  }
  chart.replaceChildren(balanceChart(balances));
  rows.replaceChildren(
    table(
      "Balances per counterparty",
      ["Counterparty", "Currency", "Payable", "Receivable", "Net"],
      balances.map((b) => [
        nameOf(members, b.counterparty),
        b.currency,
        money(b.payable, b.currency),
        money(b.receivable, b.currency),
        money(b.net, b.currency),
      ]),
    ),
  );
}

function netInWords(b) {
  const who = nameOf(members, b.counterparty);
  const amount = money(b.net.replace("-", ""), b.currency);
  if (BigInt(b.net) > 0n) return `${who} owes you ${amount} net`;
  if (BigInt(b.net) < 0n) return `You owe ${who} ${amount} net`;
  return `Even with ${who}`;
}

// Two bars per counterparty and currency, scaled to the largest amount in that currency
// (amounts in different currencies are not comparable).
function balanceChart(balances) {
  const WIDTH = 320;
  const ROW = 104;
  const largest = new Map();
  for (const b of balances) {
    const top = [BigInt(b.payable), BigInt(b.receivable)].reduce((x, y) => (x > y ? x : y));
    if (!largest.has(b.currency) || largest.get(b.currency) < top) largest.set(b.currency, top);
  }
  const length = (amount, currency) => {
    const top = largest.get(currency);
    return top > 0n ? Math.max(Number((BigInt(amount) * 1000n) / top) / 1000 * WIDTH, 1) : 1;
  };
  const summary = balances
    .map(
      (b) =>
        `${nameOf(members, b.counterparty)}, ${b.currency}: you owe ${money(b.payable, b.currency)}, ` +
        `owed to you ${money(b.receivable, b.currency)}. ${netInWords(b)}.`,
    )
    .join(" ");
  return svg(
    "svg",
    {
      class: "balance-chart",
      viewBox: `0 0 ${WIDTH} ${balances.length * ROW}`,
      role: "img",
      "aria-labelledby": "balances-chart-title",
    },
    svg("title", { id: "balances-chart-title" }, `Payable against receivable. ${summary}`),
    balances.map((b, i) => {
      const y = i * ROW;
      const bar = (top, amount, kind) =>
        svg("rect", { x: 0, y: y + top, height: 10, width: length(amount, b.currency), class: kind });
      return svg(
        "g",
        { class: "balance" },
        svg("text", { x: 0, y: y + 14, class: "who" }, `${nameOf(members, b.counterparty)} · ${b.currency}`),
        svg("text", { x: 0, y: y + 32 }, `You owe ${money(b.payable, b.currency)}`),
        bar(36, b.payable, "payable"),
        svg("text", { x: 0, y: y + 62 }, `Owed to you ${money(b.receivable, b.currency)}`),
        bar(66, b.receivable, "receivable"),
        svg("text", { x: 0, y: y + 94, class: "net" }, netInWords(b)),
      );
    }),
  );
}

function renderLiabilities(liabilities) {
  document.getElementById("liabilities-table").replaceChildren(
    liabilities.length
      ? table(
          "What the amounts are made of",
          ["Counterparty", "Direction", "Credits calculated", "Credits endorsed", "Invoiced"],
          liabilities.map((l) => [
            `${nameOf(members, l.counterparty)} (${l.currency})`,
            l.direction === "payable" ? "You owe" : "Owed to you",
            money(l.creditsCalculated, l.currency),
            money(l.creditsEndorsed, l.currency),
            money(l.invoiced, l.currency),
          ]),
        )
      : nothing("Nothing outstanding."),
  );
}

// ------------------------------------------------------------------ credits

function awaitingMe(credit) {
  const me = app.me.member?.address.toLowerCase();
  if (credit.state !== "calculated") return false;
  if (credit.buyer.toLowerCase() === me) return !credit.endorsedByBuyer;
  return credit.seller.toLowerCase() === me && !credit.endorsedBySeller;
}

function renderCredits({ edges, pageInfo }) {
  const awaiting = edges.map((e) => e.node).filter(awaitingMe);
  const list = document.getElementById("credit-list");
  if (!awaiting.length) {
    list.replaceChildren(nothing("No credit awaits your endorsement."));
    return;
  }
  list.replaceChildren(
    h("ul", { class: "credits" }, awaiting.map(creditItem)),
    pageInfo.hasNextPage ? nothing("Among your first 100 credits only.") : "",
  );
}

function creditItem(credit) {
  const me = app.me.member.address.toLowerCase();
  const owedToMe = credit.buyer.toLowerCase() === me;
  const other = nameOf(members, owedToMe ? credit.seller : credit.buyer);
  const titleId = `credit-${credit.id}`;
  const endorse = h("button", { type: "button", "aria-describedby": titleId }, "Endorse");
  const dispute = h(
    "button",
    { type: "button", "aria-describedby": titleId, "aria-expanded": "false" },
    "Dispute…",
  );
  const item = h(
    "li",
    { class: "credit", "data-id": credit.id },
    h(
      "p",
      { id: titleId, class: "credit-title" },
      h(
        "strong",
        {},
        `Service ${shortId(credit.serviceId)}, ${credit.period}: ${money(credit.amount, credit.currency)}`,
      ),
      owedToMe ? ` owed to you by ${other}` : ` you owe ${other}`,
    ),
    h(
      "p",
      {},
      `${percent(credit.creditBps, 10_000)} of the monthly charge; `,
      `availability ${percent(credit.availabilityPpm, 1_000_000)}, `,
      `outage ${duration(credit.outageSeconds)}. `,
      `Endorsed by the buyer: ${credit.endorsedByBuyer ? "yes" : "no"}; `,
      `by the seller: ${credit.endorsedBySeller ? "yes" : "no"}.`,
    ),
    h("div", { class: "buttons" }, endorse, dispute),
  );
  endorse.addEventListener("click", () =>
    act(
      endorse,
      () =>
        mutate("endorseSlaCredit", ENDORSE, {
          period: credit.period,
          serviceIds: [credit.serviceId],
        }),
      "Credit endorsed.",
    ),
  );
  dispute.addEventListener("click", async () => {
    const open = item.querySelector("form");
    if (open) {
      open.remove();
      dispute.setAttribute("aria-expanded", "false");
      return;
    }
    dispute.setAttribute("aria-expanded", "true");
    const form = await disputeForm(credit, () => {
      form.remove();
      dispute.setAttribute("aria-expanded", "false");
      dispute.focus();
    });
    item.append(form);
    form.querySelector("input, textarea").focus();
  });
  return item;
}

// The tickets behind the credit (those of its service in its month), to name which
// facts are contested, and the member's statement.
async function disputeForm(credit, close) {
  const [year, month] = credit.period.split("-").map(Number);
  const from = Date.UTC(year, month - 1, 1);
  const until = Date.UTC(year, month, 1);
  let tickets = [];
  try {
    const data = await graphql(TICKETS, { serviceId: credit.serviceId });
    tickets = data.troubleTickets.edges
      .map((e) => e.node)
      .filter((t) => Date.parse(t.startedAt) < until && (!t.endedAt || Date.parse(t.endedAt) > from));
  } catch (error) {
    app.announceError(error);
  }
  const statementId = `statement-${credit.id}`;
  const send = h("button", { type: "submit" }, "Send the dispute");
  const cancel = h("button", { type: "button" }, "Cancel");
  const form = h(
    "form",
    { class: "dispute", novalidate: true },
    h(
      "fieldset",
      {},
      h("legend", {}, "Tickets whose facts you contest"),
      tickets.length
        ? tickets.map((t) =>
            h(
              "label",
              { class: "choice" },
              h("input", { type: "checkbox", name: "ticket", value: t.id, checked: t.impact === "down" }),
              ` Ticket ${t.number} (${t.impact}, ${t.state}) from `,
              time(t.startedAt),
              t.endedAt ? [" to ", time(t.endedAt)] : "",
            ),
          )
        : h("p", {}, "No ticket of this service in that month."),
    ),
    h("label", { for: statementId }, "Your statement"),
    h("textarea", { id: statementId, name: "statement", required: true, maxlength: "10000", rows: "3" }),
    h("div", { class: "buttons" }, send, cancel),
  );
  cancel.addEventListener("click", close);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const ticketIds = [...form.querySelectorAll("input[name=ticket]:checked")].map((c) => c.value);
    const statement = form.elements.namedItem("statement").value.trim();
    const problem = !ticketIds.length
      ? "choose at least one ticket whose facts you contest"
      : !statement
        ? "write a statement: why the facts are wrong"
        : null;
    if (problem) {
      app.announceError(new ApiError([{ code: "VALIDATION", message: problem }]));
      return;
    }
    act(
      send,
      () =>
        mutate("disputeSlaCredit", DISPUTE, {
          serviceId: credit.serviceId,
          period: credit.period,
          ticketIds,
          statement,
        }),
      "Credit disputed: the tickets are reopened.",
    );
  });
  return form;
}

async function act(button, work, done) {
  button.disabled = true;
  try {
    await work();
    app.announce(done);
    await loadCfo();
    document.getElementById("credits-title").focus(); // the item acted on is gone
  } catch (error) {
    app.announceError(error);
  } finally {
    button.disabled = false;
  }
}

// ------------------------------------------------------------------ invoices, cycles

function renderInvoices({ edges, pageInfo }) {
  const invoices = edges.map((e) => e.node);
  document.getElementById("invoice-table").replaceChildren(
    invoices.length
      ? table(
          "Invoices",
          ["Invoice", "Period", "Seller → buyer", "State", "Charges", "Credits", "Amount due", "Settlement"],
          invoices.map((i) => [
            `#${shortId(i.id)}`,
            i.period,
            `${nameOf(members, i.seller)} → ${nameOf(members, i.buyer)}`,
            words(i.state),
            money(i.charges, i.currency),
            money(i.credits, i.currency),
            money(i.amountDue, i.currency),
            i.cycleId === null ? "not in a cycle yet" : `cycle #${shortId(i.cycleId)}`,
          ]),
        )
      : nothing("No invoices."),
    pageInfo.hasNextPage ? nothing("Showing your first 100 invoices.") : "",
  );
}

function paymentInWords(p, currency) {
  const me = app.me.member?.address.toLowerCase();
  const amount = money(p.amount, currency);
  const flow =
    p.payer.toLowerCase() === me
      ? `You pay ${nameOf(members, p.payee)} ${amount}`
      : `${nameOf(members, p.payer)} pays you ${amount}`;
  const confirmed = [p.confirmedByPayer && "payer", p.confirmedByPayee && "payee"].filter(Boolean);
  return `${flow} (confirmed by ${confirmed.length ? confirmed.join(" and ") : "nobody yet"})`;
}

function renderCycles(cycles) {
  document.getElementById("cycle-table").replaceChildren(
    cycles.length
      ? table(
          "Settlement cycles",
          ["Cycle", "State", "Opened", "As seller", "As buyer", "Your net", "Your payments"],
          cycles.map((c) => [
            `#${shortId(c.id)} (${c.currency})`,
            words(c.state),
            time(c.openedAt),
            money(c.asSeller, c.currency),
            money(c.asBuyer, c.currency),
            money(c.net, c.currency),
            c.payments.length
              ? h("ul", {}, c.payments.map((p) => h("li", {}, paymentInWords(p, c.currency))))
              : "none",
          ]),
        )
      : nothing("No settlement cycle yet."),
  );
}
