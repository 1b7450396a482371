// The members' web app: sign in with an API key, the proposals and the CFO's view.
//
// It is a client of the published GraphQL API and of nothing else: every read and every
// step is a `POST /graphql` with the member's API key, so the page has exactly the
// privileges and the isolation an ERP client with that key has — the server's access
// rules (cooperative/access.py) decide what it sees, never this code. The key is kept in
// sessionStorage (this tab only) and sent in the Authorization header, never in a URL.

import { ApiError, graphql, inWords, session } from "./api.js";
import { clearCfo, initCfo, loadCfo } from "./cfo.js";
import { initProposals, startProposals, stopProposals } from "./proposals.js";

const ME = "{ me { role keyCustody member { address name } } }";
const VIEWS = { proposals: "proposals-view", cfo: "cfo-view" };
const ROLE_IN_WORDS = { ADMIN: "the operator (admin key)", AUDITOR: "an auditor" };

const byId = (id) => document.getElementById(id);
const context = { me: null, announce, announceError };

function announce(message, kind = "ok") {
  const region = byId("announcer");
  region.className = `announcer ${kind}`;
  // emptied first, so the same message twice is announced twice
  region.textContent = "";
  setTimeout(() => {
    region.textContent = message;
  }, 50);
}

function announceError(error) {
  const words = error instanceof ApiError ? error.message : inWords({ code: "PAGE", message: error.message });
  announce(words, "error");
}

async function signIn(key) {
  session.signIn(key);
  try {
    context.me = (await graphql(ME)).me;
  } catch (error) {
    session.signOut();
    announceError(error);
    return false;
  }
  const { member, role } = context.me;
  byId("who").textContent = member
    ? `Signed in as ${member.name} (${member.address})`
    : `Signed in as ${ROLE_IN_WORDS[role] ?? role}`;
  byId("sign-in").hidden = true;
  byId("signed-in").hidden = false;
  byId("views").hidden = false;
  show(true);
  return true;
}

function signOut() {
  session.signOut();
  context.me = null;
  stopProposals();
  for (const id of Object.values(VIEWS)) byId(id).hidden = true;
  byId("views").hidden = true;
  byId("signed-in").hidden = true;
  byId("sign-in").hidden = false;
  byId("proposal-list").replaceChildren();
  clearCfo();
  announce("Signed out: the key is forgotten.");
  byId("sign-in-title").focus();
}

// The view named by the address's #fragment (proposals by default).
function show(focus) {
  if (!context.me) return;
  const name = VIEWS[location.hash.slice(1)] ? location.hash.slice(1) : "proposals";
  for (const [view, id] of Object.entries(VIEWS)) {
    byId(id).hidden = view !== name;
    const link = byId(`nav-${view}`);
    if (view === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (name === "proposals") startProposals();
  else {
    stopProposals();
    loadCfo();
  }
  if (focus) byId(`${name === "cfo" ? "cfo" : "proposals"}-title`).focus();
}

byId("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = byId("api-key");
  const key = input.value.trim();
  if (!key) {
    announceError(new ApiError([{ code: "VALIDATION", message: "enter your API key" }]));
    input.focus();
    return;
  }
  input.value = ""; // the key lives in sessionStorage only, not in the page
  if (await signIn(key)) announce(`Welcome, ${context.me.member?.name ?? "operator"}.`);
  else input.focus();
});
byId("sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", () => {
  byId("announcer").textContent = ""; // the last view's news is no news in this one
  show(true);
});

initProposals(context);
initCfo(context);
const kept = session.key();
if (kept) signIn(kept);
