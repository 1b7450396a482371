// Proposals: what each one does (its actions in words, from the API's `summary`), the
// quorum and the tallies, the timeline, the votes with their reasons; voting with the
// platform-held key (castVote) or with the member's own wallet (ballot -> castVoteBySig);
// queueing and executing when due; proposing an admission or an SLA template.

import { ApiError, graphql, mutate } from "./api.js";
import { h, nameOf, relative, time } from "./format.js";
import { hasWallet, signBallot } from "./wallet.js";

const PROPOSALS = `query Proposals {
  members(first: 100, includeFormer: true) { edges { node { address name } } }
  proposals(first: 20) {
    edges { node {
      id kind state description voteStart voteEnd votingExtended eta
      actions { summary }
      tally { forVotes againstVotes abstainVotes eligible quorumVotes }
      history { event at }
      votes(first: 100) { edges { node { voter support reason } } }
      viewerVote { support }
    } }
    pageInfo { hasNextPage }
  }
}`;
const ANSWER = "proposal { id state } errors { code message field }";
const CAST_VOTE = `mutation($input: CastVoteInput!) { castVote(input: $input) { ${ANSWER} } }`;
const CAST_VOTE_BY_SIG = `mutation($input: CastVoteBySigInput!) { castVoteBySig(input: $input) { ${ANSWER} } }`;
const BALLOT = `query($proposalId: ID!, $support: VoteSupport!, $voter: String) {
  ballot(proposalId: $proposalId, support: $support, voter: $voter) }`;
const QUEUE = `mutation($input: ProposalIdInput!) { queueProposal(input: $input) { ${ANSWER} } }`;
const EXECUTE = `mutation($input: ProposalIdInput!) { executeProposal(input: $input) { ${ANSWER} } }`;
const ADMIT = `mutation($input: ProposeMemberAdmissionInput!) { proposeMemberAdmission(input: $input) { ${ANSWER} } }`;
const TEMPLATE = `mutation($input: ProposeSlaTemplateInput!) { proposeSlaTemplate(input: $input) { ${ANSWER} } }`;

const KIND = {
  ADMIT_MEMBER: "Admitting a member",
  REMOVE_MEMBER: "Removing a member",
  ADOPT_SLA_TEMPLATE: "Adopting an SLA template",
  RETIRE_SLA_TEMPLATE: "Retiring an SLA template",
  UPGRADE_MODULE: "Upgrading a module",
  CHANGE_RULES: "Changing the rules",
};
const STATE = {
  PENDING: "Pending",
  ACTIVE: "Active",
  CANCELED: "Canceled",
  DEFEATED: "Defeated",
  SUCCEEDED: "Succeeded",
  QUEUED: "Queued",
  EXPIRED: "Expired",
  EXECUTED: "Executed",
};
const SUPPORT = { FOR: "For", AGAINST: "Against", ABSTAIN: "Abstain" };
// While something waits on the clock (a vote running, a timelock delay) the list is
// reloaded often, so the page shows the new state when it comes; otherwise seldom.
const POLL_WAITING_MS = 2000;
const POLL_IDLE_MS = 15000;

let app; // { me, announce, announceError }
let members = new Map();
let polling = false;
let timer;
let loads = Promise.resolve();
let loading = 0;
let waiting = false;

export function initProposals(context) {
  app = context;
  document.getElementById("proposals-refresh").addEventListener("click", () => refresh());
  initAdmissionForm();
  initTemplateForm();
}

export function startProposals() {
  polling = true;
  return refresh();
}

export function stopProposals() {
  polling = false;
  clearTimeout(timer);
}

// Loads run one after another: one asked for after a vote sees the vote.
export function refresh() {
  loading += 1;
  loads = loads.then(load).finally(() => {
    loading -= 1;
    schedule();
  });
  return loads;
}

function schedule() {
  clearTimeout(timer);
  if (!polling) return;
  timer = setTimeout(
    () => (document.hidden || loading ? schedule() : refresh()),
    waiting ? POLL_WAITING_MS : POLL_IDLE_MS,
  );
}

async function load() {
  if (!polling) return;
  try {
    const data = await graphql(PROPOSALS);
    if (!polling) return; // signed out, or gone to another view, meanwhile
    members = new Map(data.members.edges.map(({ node }) => [node.address.toLowerCase(), node.name]));
    render(data.proposals);
  } catch (error) {
    app.announceError(error);
  }
}

// ------------------------------------------------------------------ the list

function render({ edges, pageInfo }) {
  const list = document.getElementById("proposal-list");
  const proposals = edges.map((e) => e.node);
  const now = Date.now();
  waiting = proposals.some(
    (p) =>
      p.state === "PENDING" ||
      p.state === "ACTIVE" ||
      (p.state === "QUEUED" && Date.parse(p.eta) > now),
  );
  document.getElementById("proposals-note").textContent = proposals.length
    ? pageInfo.hasNextPage
      ? "Showing the 20 newest proposals (coop proposals on the command line lists them all)."
      : ""
    : "No proposals yet.";
  // Cards are updated in place, never rebuilt while unchanged: a reason being typed and
  // the keyboard focus survive every reload.
  const kept = new Map([...list.children].map((card) => [card.dataset.id, card]));
  let previous = null;
  for (const proposal of proposals) {
    let card = kept.get(proposal.id);
    kept.delete(proposal.id);
    if (card) update(card, proposal);
    else card = newCard(proposal);
    if (card.previousElementSibling !== previous || card.parentElement !== list) {
      if (previous) previous.after(card);
      else list.prepend(card);
    }
    previous = card;
  }
  for (const gone of kept.values()) gone.remove();
}

function newCard(p) {
  const titleId = `title-${p.id}`;
  const card = h(
    "article",
    { class: "proposal", "data-id": p.id, "aria-labelledby": titleId },
    h(
      "header",
      {},
      h("p", { class: "kind" }, KIND[p.kind] ?? p.kind),
      h("h2", { id: titleId }, headline(p.description)),
      h("p", { class: "state-line" }, "State: ", h("strong", { class: "state" })),
    ),
    p.description !== headline(p.description) && h("p", { class: "description" }, p.description),
    h("h3", {}, "What it does"),
    h("ol", { class: "actions" }, p.actions.map((a) => h("li", {}, a.summary))),
    h("div", { class: "tally" }),
    h("div", { class: "timeline" }),
    h("div", { class: "votes" }),
    h("div", { class: "controls", tabindex: "-1" }),
  );
  update(card, p);
  return card;
}

function headline(description) {
  const first = description.split("\n")[0].trim();
  return first.length > 120 ? `${first.slice(0, 119)}…` : first;
}

function update(card, p) {
  const state = card.querySelector(".state");
  state.textContent = STATE[p.state] ?? p.state;
  state.dataset.state = p.state;
  card.dataset.state = p.state;
  card.querySelector(".tally").replaceChildren(...tallyView(p.tally));
  card.querySelector(".timeline").replaceChildren(...timelineView(p));
  card.querySelector(".votes").replaceChildren(...votesView(p));
  const mode = controlMode(p);
  if (card.dataset.mode !== mode) {
    card.querySelector(".controls").replaceChildren(...controlsView(p, mode, card));
    card.dataset.mode = mode;
  }
}

function tallyView(t) {
  const cast = t.forVotes + t.againstVotes + t.abstainVotes;
  const reached = cast >= t.quorumVotes;
  const share = (votes) => `${(100 * votes) / Math.max(t.eligible, 1)}%`;
  const segment = (kind, votes) => {
    const part = h("span", { class: `segment ${kind}` });
    part.style.width = share(votes); // CSSOM, which the page's style-src 'self' allows
    return part;
  };
  const marker = h("span", { class: "quorum-mark" });
  marker.style.left = share(t.quorumVotes);
  const quorum =
    `quorum ${t.quorumVotes} of ${t.eligible} eligible members, ` +
    (reached ? "reached" : "not reached yet");
  return [
    h("h3", {}, "Votes counted"),
    h(
      "div",
      {
        class: "quorum-bar",
        role: "img",
        "aria-label":
          `${cast} of ${t.eligible} members voted: ${t.forVotes} For, ` +
          `${t.againstVotes} Against, ${t.abstainVotes} Abstain; ${quorum}`,
      },
      segment("for", t.forVotes),
      segment("against", t.againstVotes),
      segment("abstain", t.abstainVotes),
      marker,
    ),
    h(
      "ul",
      { class: "counts" },
      h("li", { class: "count-for" }, "For ", h("strong", {}, String(t.forVotes))),
      h("li", { class: "count-against" }, "Against ", h("strong", {}, String(t.againstVotes))),
      h("li", { class: "count-abstain" }, "Abstain ", h("strong", {}, String(t.abstainVotes))),
      h("li", { class: `count-quorum ${reached ? "reached" : ""}` }, `${cast} voted, ${quorum}`),
    ),
  ];
}

function timelineView(p) {
  const event = (name) => p.history.find((e) => e.event === name);
  const steps = [
    ["Created", event("ProposalCreated")?.at],
    ["Voting starts", p.voteStart],
    [p.votingExtended ? "Voting ends (extended: quorum came late)" : "Voting ends", p.voteEnd],
    ["Queued", event("ProposalQueued")?.at],
    ["Executable from", p.eta],
    ["Executed", event("ProposalExecuted")?.at],
    ["Canceled", event("ProposalCanceled")?.at],
  ].filter(([, at]) => at);
  const now = Date.now();
  return [
    h("h3", {}, "Timeline"),
    h(
      "ol",
      { class: "steps" },
      steps.map(([what, at]) =>
        h(
          "li",
          { class: Date.parse(at) > now ? "future" : "past" },
          h("span", { class: "what" }, what),
          " ",
          time(at),
          h("span", { class: "when" }, ` (${relative(at, now)})`),
        ),
      ),
    ),
  ];
}

function votesView(p) {
  const votes = p.votes.edges.map((e) => e.node);
  return [
    h("h3", {}, "Votes"),
    votes.length
      ? h(
          "ul",
          { class: "vote-list" },
          votes.map((v) =>
            h(
              "li",
              {},
              h("strong", {}, nameOf(members, v.voter)),
              `: ${SUPPORT[v.support]}`,
              v.reason && [" — ", h("q", {}, v.reason)],
            ),
          ),
        )
      : h("p", {}, "No votes yet."),
  ];
}

// ------------------------------------------------------------------ acting

function controlMode(p) {
  const { role, member } = app.me;
  if (p.state === "ACTIVE" && member) return p.viewerVote ? `voted-${p.viewerVote.support}` : "vote";
  if (role !== "MEMBER" && role !== "ADMIN") return "none"; // an auditor reads only
  if (p.state === "SUCCEEDED") return "queue";
  if (p.state === "QUEUED") return Date.now() >= Date.parse(p.eta) ? "execute" : "wait";
  return "none";
}

function controlsView(p, mode, card) {
  const titleId = `title-${p.id}`;
  if (mode === "vote") return [voteForm(p, card)];
  if (mode.startsWith("voted-")) return [h("p", {}, `You voted ${SUPPORT[p.viewerVote.support]}.`)];
  if (mode === "queue") {
    const button = h("button", { type: "button", "aria-describedby": titleId }, "Queue for execution");
    button.addEventListener("click", () =>
      act(button, card, () => mutate("queueProposal", QUEUE, { proposalId: p.id }), "Queued."),
    );
    return [h("p", {}, "The vote passed: queue it in the Timelock."), button];
  }
  if (mode === "execute") {
    const button = h("button", { type: "button", "aria-describedby": titleId }, "Execute");
    button.addEventListener("click", () =>
      act(button, card, () => mutate("executeProposal", EXECUTE, { proposalId: p.id }), "Executed."),
    );
    return [h("p", {}, "The timelock delay is over."), button];
  }
  if (mode === "wait") return [h("p", {}, "Queued; it can be executed once the delay is over.")];
  return [];
}

function voteForm(p, card) {
  const titleId = `title-${p.id}`;
  const reasonId = `reason-${p.id}`;
  const custodial = app.me.keyCustody === "PLATFORM";
  const form = h(
    "form",
    { class: "vote", novalidate: true },
    h(
      "fieldset",
      {},
      h("legend", {}, "Your vote"),
      Object.entries(SUPPORT).map(([value, label]) =>
        h("label", { class: "choice" }, h("input", { type: "radio", name: "support", value }), ` ${label}`),
      ),
    ),
    custodial && [
      h("label", { for: reasonId }, "Reason (optional)"),
      h("textarea", { id: reasonId, name: "reason", maxlength: "1024", rows: "2" }),
    ],
    h(
      "p",
      { class: "hint" },
      custodial
        ? "A vote signed with your wallet carries no reason: the signed ballot has none."
        : "Your key is in your own custody: sign the ballot with your wallet.",
    ),
  );
  const buttons = h("div", { class: "buttons" });
  form.append(buttons);
  const chosen = () => {
    const support = form.elements.namedItem("support").value;
    if (!support) {
      form.querySelector("input[type=radio]").focus();
      app.announceError(
        new ApiError([{ code: "VALIDATION", message: "choose For, Against or Abstain first" }]),
      );
    }
    return support;
  };
  if (custodial) {
    const vote = h("button", { type: "submit", "aria-describedby": titleId }, "Vote");
    buttons.append(vote);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const support = chosen();
      if (!support) return;
      const reason = form.elements.namedItem("reason").value.trim();
      act(
        vote,
        card,
        () => mutate("castVote", CAST_VOTE, { proposalId: p.id, support, reason }),
        `You voted ${SUPPORT[support]}.`,
      );
    });
  } else {
    form.addEventListener("submit", (event) => event.preventDefault());
  }
  const wallet = h("button", { type: "button", "aria-describedby": titleId }, "Sign with my wallet");
  wallet.addEventListener("click", () => {
    const support = chosen();
    if (!support) return;
    const done = `You voted ${SUPPORT[support]}, signed with your wallet.`;
    act(wallet, card, () => voteWithWallet(p, support), done);
  });
  buttons.append(wallet);
  return form;
}

async function voteWithWallet(p, support) {
  if (!hasWallet()) {
    throw new ApiError([
      { code: "WALLET", message: "no wallet was found in this browser (window.ethereum)" },
    ]);
  }
  const voter = app.me.member.address;
  const { ballot } = await graphql(BALLOT, { proposalId: p.id, support, voter });
  const signature = await signBallot(ballot, voter);
  return mutate("castVoteBySig", CAST_VOTE_BY_SIG, { proposalId: p.id, support, voter, signature });
}

// Run one step: the button is busy meanwhile, the outcome is announced, the list reloaded.
async function act(button, card, work, done) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    await work();
    app.announce(done);
    await refresh();
  } catch (error) {
    app.announceError(error);
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    // the step may have replaced its own controls: keep the focus in the proposal
    if (!button.isConnected && card?.isConnected) card.querySelector(".controls").focus();
  }
}

// ------------------------------------------------------------------ proposing

const field = (form, name) => form.elements.namedItem(name);

// The first field the browser finds invalid, announced with its label, and focused.
function invalid(form) {
  const wrong = [...form.elements].find((e) => e.willValidate && !e.checkValidity());
  if (!wrong) return false;
  const label = wrong.labels?.[0]?.textContent.trim() ?? wrong.name;
  app.announceError(
    new ApiError([{ code: "VALIDATION", message: `${label}: ${wrong.validationMessage}` }]),
  );
  wrong.focus();
  return true;
}

function submitting(form, work, done) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (invalid(form)) return;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await work();
      app.announce(done);
      form.reset();
      form.dispatchEvent(new Event("reset-done"));
      await refresh();
    } catch (error) {
      app.announceError(error);
    } finally {
      button.disabled = false;
    }
  });
}

function initAdmissionForm() {
  const form = document.getElementById("admission-form");
  submitting(
    form,
    () => {
      const address = field(form, "address").value.trim();
      return mutate("proposeMemberAdmission", ADMIT, {
        name: field(form, "name").value.trim(),
        description: field(form, "description").value.trim(),
        ...(address ? { address } : {}),
      });
    },
    "Admission proposed: voting has started.",
  );
}

const DEFAULT_TIERS = [
  ["99.95", "10"],
  ["99.9", "25"],
];

function initTemplateForm() {
  const form = document.getElementById("template-form");
  const rows = document.getElementById("tier-rows");
  const percentInput = (name, step, value) =>
    h("input", { name, type: "number", inputmode: "decimal", min: "0", max: "100", step, value, required: true });
  // "Tier 2" names a row in its label and its Remove button: renumbered when one goes
  const renumber = () =>
    [...rows.children].forEach((row, index) => {
      for (const number of row.querySelectorAll(".tier-number")) number.textContent = index + 1;
    });
  const addTier = (floor = "", credit = "") => {
    const number = () => h("span", { class: "tier-number" });
    const remove = h("button", { type: "button" }, "Remove tier ", number());
    const row = h(
      "div",
      { class: "tier" },
      h("label", {}, "Tier ", number(), ": availability below (%)", percentInput("floor", "0.0001", floor)),
      h("label", {}, "credit (% of the monthly charge)", percentInput("credit", "0.01", credit)),
      remove,
    );
    remove.addEventListener("click", () => {
      row.remove();
      renumber();
      document.getElementById("add-tier").focus();
    });
    rows.append(row);
    renumber();
    return row;
  };
  const defaults = () => {
    rows.replaceChildren();
    for (const [floor, credit] of DEFAULT_TIERS) addTier(floor, credit);
  };
  defaults();
  form.addEventListener("reset-done", defaults);
  document
    .getElementById("add-tier")
    .addEventListener("click", () => addTier().querySelector("input").focus());
  // percent -> parts per million / basis points, as the contract counts
  const parts = (value, perPercent) => Math.round(Number(value) * perPercent);
  submitting(
    form,
    () =>
      mutate("proposeSlaTemplate", TEMPLATE, {
        name: field(form, "name").value.trim(),
        document: field(form, "document").value,
        objectivePpm: parts(field(form, "objective").value, 10_000),
        tiers: [...rows.children].map((row) => ({
          floorPpm: parts(row.querySelector("[name=floor]").value, 10_000),
          creditBps: parts(row.querySelector("[name=credit]").value, 100),
        })),
        resolutionWindowSeconds: Math.round(Number(field(form, "window").value) * 86_400),
        excludePlannedMaintenance: field(form, "maintenance").checked,
        description: field(form, "description").value.trim(),
      }),
    "SLA template proposed: voting has started.",
  );
}
