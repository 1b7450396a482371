"""The members' web app (web/, served at `/`) in headless Chromium, against the real
`coop serve --demo` as a process: a proposal from the page through three members' votes
(two custodial, one signed by a wallet in the page) to its execution, in real time; the
CFO's view showing the API's numbers, with Endorse and Dispute; and what the page must
always be: its key in sessionStorage only, no horizontal scroll at 375 px, every control
reachable by Tab, no request leaving 127.0.0.1, nothing run against its CSP."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from eth_account import Account
from playwright.sync_api import Browser, Locator, Page, expect
from web3 import Web3

from cooperative.api.web import CONTENT_TYPES, web_files
from deployments.chain import ChainGateway
from deployments.compiler import Compiler
from deployments.node import LOCAL_CHAIN_ID
from governance.actions import decode_action, summarize_actions
from tests.browser import chromium, screenshot_path
from tests.crash_harness import Platform

VOTING_PERIOD, TIMELOCK_DELAY = 4, 2  # seconds, in real time
PASSPHRASE = "a wallet of its own, for the web app test"
KEY_NAME = "carriercoop.apiKey"  # web/api.js
MINUS = "\N{MINUS SIGN}"  # web/format.js writes a negative amount with it
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
# waits in real time: a vote's end, then an idle chain's next block (the server seals
# one every 2 s), then the page's next reload (every 2 s while something waits on time)
STATE_TIMEOUT_MS = 30_000

# A wallet in the page, as a browser extension would inject one: it holds the member's
# address and hands eth_signTypedData_v4 to the test, which signs with the member's key.
WALLET = """
(() => {
  const account = %(address)s;
  window.ethereum = {
    async request({ method, params }) {
      if (method === "eth_requestAccounts" || method === "eth_accounts") return [account];
      if (method === "eth_chainId") return %(chain_id)s;
      if (method === "eth_signTypedData_v4") return window.coopTestWalletSign(params[0], params[1]);
      throw Object.assign(new Error(`the test wallet does not do ${method}`), { code: 4200 });
    },
    on() {},
    removeListener() {},
  };
})();
"""
# What the page's Content-Security-Policy refused, if anything (it must be nothing).
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__cspViolations.push(`${e.violatedDirective}: ${e.blockedURI}`));
"""

ME = "{ me { member { address name } } }"
CREATE_KEY = (
    'mutation { createApiKey(input: {label: "wallet"}) { secret errors { code message } } }'
)
EXPORT = "mutation($p: String!) { exportMemberKey(input: {passphrase: $p}) { keystore keyCustody errors { code message } } }"
PROPOSAL = "query($id: ID!) { proposal(id: $id) { state actions { summary } votes { edges { node { voter support reason } } } } }"
CFO_NUMBERS = """{
  counterpartyBalances { counterparty currency payable receivable net }
  liabilities { counterparty currency direction creditsCalculated creditsEndorsed invoiced }
  slaCredits(first: 100) { edges { node { id serviceId period state buyer seller endorsedByBuyer endorsedBySeller } } }
  invoices(first: 100) { edges { node { id state amountDue charges credits cycleId } } }
  settlementCycles { edges { node { id state net } } }
}"""


# ------------------------------------------------------------------ the platform


class Api:
    """GraphQL over HTTP as one API key: what the page asks, asked directly."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=60,
        )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    def ok(self, name: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        payload = self(query, variables)[name]
        assert payload["errors"] == [], payload["errors"]
        return payload


@dataclass
class Cooperative:
    """The running server and its members' and operator's API clients."""

    platform: Platform
    admin: Api
    members: list[Api]  # Aurora, Borealis, Cirrus (the credentials file's order)
    names: list[str]
    addresses: list[str]

    @property
    def url(self) -> str:
        return self.platform.url


@pytest.fixture(scope="module")
def cooperative(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cooperative]:
    folder = tmp_path_factory.mktemp("web-app")
    platform = Platform(folder / "data", folder / "serve.log")
    try:
        platform.start(voting_period=VOTING_PERIOD, timelock_delay=TIMELOCK_DELAY)
        credentials = platform.credentials()
        members = [Api(platform.url, m["apiKey"]) for m in credentials["members"]]
        yield Cooperative(
            platform=platform,
            admin=Api(platform.url, credentials["admin"]["apiKey"]),
            members=members,
            names=[m["name"] for m in credentials["members"]],
            addresses=[m["address"] for m in credentials["members"]],
        )
    finally:
        platform.stop()


def own_key(api: Api) -> str:
    """The member takes its key into its own custody (README: a key it created itself
    asks for the export); the platform never signs for it again. Its private key, hex."""
    secret = api.ok("createApiKey", CREATE_KEY)["secret"]
    exported = Api(api.url, secret).ok("exportMemberKey", EXPORT, {"p": PASSPHRASE})
    assert exported["keyCustody"] == "EXPORTED"
    return "0x" + bytes(Account.decrypt(json.loads(exported["keystore"]), PASSPHRASE)).hex()


# ------------------------------------------------------------------ the browser


@dataclass
class Member:
    """One member's page (in a browser context of its own), every URL it requested and
    every error it threw."""

    page: Page
    requested: list[str]
    thrown: list[str]


def open_page(
    browser: Browser,
    url: str,
    viewport: dict[str, int],
    wallet: tuple[str, Callable[[str, str], str]] | None = None,
) -> Member:
    """A member's own browser context with the app loaded; with `wallet` (an address and
    the function that signs for it), a wallet injected into the page."""
    context = browser.new_context(viewport=viewport)
    context.add_init_script(CSP_WATCH)
    if wallet is not None:
        address, signs = wallet
        context.expose_function("coopTestWalletSign", signs)
        context.add_init_script(
            WALLET % {"address": json.dumps(address), "chain_id": json.dumps(hex(LOCAL_CHAIN_ID))}
        )
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    thrown: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: thrown.append(str(error)))
    page.goto(url)
    return Member(page, requested, thrown)


def sign_in(page: Page, key: str, name: str) -> None:
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who")).to_contain_text(f"Signed in as {name}")


def announced(page: Page, text: str | re.Pattern[str]) -> None:
    expect(page.locator("#announcer")).to_contain_text(text, timeout=STATE_TIMEOUT_MS)


def card(page: Page, proposal_id: str) -> Locator:
    return page.locator(f'article.proposal[data-id="{proposal_id}"]')


def first_load(page: Page) -> dict[str, Any]:
    """What the first load of the page cost, from the browser's Performance API."""
    return page.evaluate(
        """() => {
          const [nav] = performance.getEntriesByType("navigation");
          const resources = performance.getEntriesByType("resource");
          const entries = [nav, ...resources];
          return {
            requests: entries.length,
            transferBytes: entries.reduce((sum, e) => sum + e.transferSize, 0),
            bodyBytes: entries.reduce((sum, e) => sum + e.encodedBodySize, 0),
            loadMs: Math.round(nav.loadEventEnd),
            domContentLoadedMs: Math.round(nav.domContentLoadedEventEnd),
            urls: entries.map((e) => e.name),
          };
        }"""
    )


def unreached_by_tab(page: Page) -> list[str]:
    """The visible, enabled controls that pressing Tab from the top never focuses (a radio
    group is one stop: reaching one of its radios reaches it)."""
    controls = page.evaluate(
        """() => {
          const all = document.querySelectorAll(
            'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])');
          const shown = [...all].filter((e) => e.checkVisibility({ visibilityProperty: true }) && !e.disabled);
          return shown.map((e, i) => {
            e.dataset.tabStop =
              e.type === "radio" ? `radio:${e.closest("article")?.dataset.id}:${e.name}` : `#${i}`;
            return [e.dataset.tabStop, e.outerHTML.slice(0, 80)];
          });
        }"""
    )
    page.evaluate("document.activeElement && document.activeElement.blur()")
    stops = {stop for stop, _html in controls}
    reached = set()
    # (more presses than controls: Chromium also stops on scrollable boxes, and the focus
    # leaves the page once before it comes round again)
    for _ in range(2 * len(controls) + 10):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement?.dataset.tabStop ?? null"))
        if stops <= reached:
            break
    return [html for stop, html in controls if stop not in reached]


def assert_fits_a_phone(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def assert_nothing_refused(member: Member, base: str) -> None:
    assert member.thrown == []
    assert member.page.evaluate("window.__cspViolations") == []
    outside = [
        u for u in member.requested if not u.startswith(f"{base}/") and not u.startswith("data:")
    ]
    assert outside == [], outside


# ------------------------------------------------------------------ numbers as the page says them


def money(minor: str | int, currency: str = "EUR") -> str:
    """web/format.js's money(): minor units -> "5,500.00 EUR" (two decimals for EUR)."""
    value = int(minor)
    whole, cents = divmod(abs(value), 100)
    sign = MINUS if value < 0 else ""
    return f"{sign}{whole:,}.{cents:02d} {currency}"


def short_id(global_id: str) -> str:
    """web/format.js's shortId(): a record's id as the page shows it ("Invoice:7" -> "7")."""
    return global_id.split(":", 1)[1]


def table_rows(table: Locator) -> list[list[str]]:
    return table.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))"
    )


# ------------------------------------------------------------------ the tests


def test_each_kind_of_action_is_said_in_words() -> None:
    """What the page shows for each kind of proposal (the API's `summary`), from calls
    encoded and decoded with the contracts' own ABIs."""
    compiler = Compiler()
    w3 = Web3()
    handles = {
        "Membership": compiler.vyper("Membership").abi,
        "SlaTemplates": compiler.vyper("SlaTemplates").abi,
        "Governor": compiler.vyper("Governor").abi,
        "ModuleRegistry": compiler.vyper("ModuleRegistry").abi,
        "Assurance.beacon": compiler.openzeppelin("UpgradeableBeacon").abi,
    }
    known, contract = {}, {}  # address -> (name, handle), as the projector knows them
    for index, (name, abi) in enumerate(handles.items()):
        address = Web3.to_checksum_address(f"0x{index + 1:040x}")
        contract[name] = w3.eth.contract(address, abi=abi)
        known[address] = (name, contract[name])
    delta, borealis, implementation = (
        Web3.to_checksum_address("0x" + byte * 20) for byte in ("d1", "b2", "e3")
    )
    calls = [
        contract["Membership"].functions.admit(delta, "Delta Carrier"),
        contract["Membership"].functions.remove(borealis),
        contract["SlaTemplates"].functions.retire(2),
        contract["Assurance.beacon"].functions.upgradeTo(implementation),
        contract["ModuleRegistry"].functions.record_upgrade("Assurance", 2),
        contract["Governor"].functions.set_rules(4, (2, 3, 2, 3, True, 3600, 7 * 86400, 90, 45)),
    ]
    actions = [
        decode_action(known, call.address, bytes.fromhex(call._encode_transaction_data()[2:]))
        for call in calls
    ]
    actions.append({"target": delta, "contract": None, "function": None, "args": {}})
    summaries = summarize_actions(
        actions,
        [0, 0, 0, 0, 0, 0, 5],
        {borealis: "Borealis Networks"},
        lambda address: f"0xc0de{address[-4:]}",
    )
    assert summaries == [
        f"admit Delta Carrier ({delta})",
        f"remove member Borealis Networks ({borealis})",
        "retire SLA template 2",
        f"upgrade Assurance to v2: implementation {implementation}, codehash 0xc0de{implementation[-4:]}",
        "record Assurance v2 in the module registry",
        "change the rules for upgrading a module: quorum 2/3 of the eligible members, approval "
        "at least 2/3 of For and Against, voting delay 1 hour, voting period 7 days, timelock "
        "delay 90 s, late-quorum extension 45 s",
        f"call {delta} (data not decoded), sending 5 wei",
    ]


@pytest.mark.e2e
def test_the_app_and_its_files_are_served_with_their_types(cooperative: Cooperative) -> None:
    page = requests.get(f"{cooperative.url}/", timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<script type="module" src="/web/app.js">' in page.text
    files = web_files()
    assert {"index.html", "app.js", "api.js", "style.css"} <= set(files)
    for name, path in files.items():
        answer = requests.get(f"{cooperative.url}/web/{name}", timeout=10)
        assert answer.status_code == 200, name
        assert answer.headers["content-type"] == CONTENT_TYPES[path.suffix], name
        assert answer.content == path.read_bytes()
    ethers = requests.get(f"{cooperative.url}/vendor/ethers.min.js", timeout=10)
    assert ethers.status_code == 200
    assert ethers.headers["content-type"] == "text/javascript; charset=utf-8"
    assert b"BrowserProvider" in ethers.content
    for missing in ("/web/nothing.js", "/web/%2e%2e/pyproject.toml", "/web/"):
        assert requests.get(f"{cooperative.url}{missing}", timeout=10).status_code == 404, missing


@pytest.mark.e2e
def test_a_proposal_from_the_page_to_its_execution_then_the_cfo_view(
    cooperative: Cooperative,
) -> None:
    aurora_api, borealis_api, cirrus_api = cooperative.members
    aurora_name, borealis_name, cirrus_name = cooperative.names
    cirrus_address = cooperative.addresses[2]
    cirrus_key = own_key(cirrus_api)

    signed: list[dict[str, Any]] = []  # what the wallet was asked to sign

    def wallet_signs(address: str, typed_json: str) -> str:
        typed = json.loads(typed_json)
        signed.append({"address": address, "typed": typed})
        signature = Account.sign_typed_data(cirrus_key, full_message=typed).signature
        return "0x" + bytes(signature).hex()

    with chromium() as browser:
        # ---------------------------------------------------------- first load, signing in
        aurora = open_page(browser, f"{cooperative.url}/", PHONE)
        load = first_load(aurora.page)
        (screenshot_path("web-app-load-figures").with_suffix(".json")).write_text(
            json.dumps(load, indent=2)
        )
        print(f"first load: {load}")
        assert load["requests"] <= 8 and load["bodyBytes"] < 100_000, load
        assert not any("ethers" in url for url in load["urls"]), "ethers loads only to sign"

        aurora.page.get_by_label("API key").fill("coop_not-a-key")
        aurora.page.get_by_role("button", name="Sign in").click()
        announced(aurora.page, "Not signed in:")
        announced(aurora.page, "[UNAUTHENTICATED]")
        sign_in(aurora.page, aurora_api.key, aurora_name)
        stored = aurora.page.evaluate(
            f"[sessionStorage.getItem('{KEY_NAME}'), localStorage.length]"
        )
        assert stored == [aurora_api.key, 0]

        borealis = open_page(browser, f"{cooperative.url}/", DESKTOP)
        sign_in(borealis.page, borealis_api.key, borealis_name)
        cirrus = open_page(
            browser, f"{cooperative.url}/", DESKTOP, wallet=(cirrus_address, wallet_signs)
        )
        sign_in(cirrus.page, cirrus_api.key, cirrus_name)

        # ---------------------------------------------------------- a payload's error, in words
        page = aurora.page
        page.get_by_text("Propose admitting a member").click()
        page.get_by_label("Carrier's name").fill("Borealis again")
        page.get_by_label("Its address (optional)").fill(cooperative.addresses[1])
        page.get_by_label("Why (the proposal's description)").first.fill("Admit it twice")
        page.get_by_role("button", name="Propose the admission").click()
        announced(page, "Please check the input:")
        announced(page, "is already a member")
        announced(page, "[VALIDATION]")
        page.get_by_text("Propose admitting a member").click()  # closed again

        # ---------------------------------------------------------- proposing a template
        page.get_by_text("Propose an SLA template").click()
        page.get_by_label("Template name").fill("Gold")
        page.get_by_label("The template's full text").fill("Gold: 99.95 % availability a month.")
        page.locator("#template-description").fill("Adopt Gold for Nordic e-lines")
        page.get_by_role("button", name="Propose the template").click()
        announced(page, "SLA template proposed")
        proposal = page.locator("article.proposal").first
        expect(proposal.locator(".state")).to_have_text("Active")
        proposal_id = proposal.get_attribute("data-id")
        assert proposal_id is not None
        summary = (
            "adopt SLA template Gold: availability objective 99.95 % per calendar month; "
            "credit tiers: below 99.95 % → 10 % of MRC, below 99.9 % → 25 % of MRC; "
            "resolved tickets deemed closed after 5 days; planned maintenance excluded"
        )
        expect(proposal.locator(".actions li")).to_have_text([summary])
        assert aurora_api(PROPOSAL, {"id": proposal_id})["proposal"]["actions"] == [
            {"summary": summary}
        ]
        page.screenshot(path=screenshot_path("web-app-active"), full_page=True)

        # ---------------------------------------------------------- three votes within 4 s
        # Each page loads the proposal, then the three vote at once: Cirrus by signing the
        # ballot with its wallet, Borealis and Aurora with the key the platform holds.
        borealis.page.get_by_role("button", name="Refresh").click()
        cirrus.page.get_by_role("button", name="Refresh").click()
        on_cirrus, on_borealis = card(cirrus.page, proposal_id), card(borealis.page, proposal_id)
        expect(on_cirrus.get_by_label("For", exact=True)).to_be_visible()
        expect(on_borealis.get_by_label("Against", exact=True)).to_be_visible()
        expect(on_cirrus.get_by_label("Reason (optional)")).to_have_count(0)  # a ballot has none
        on_cirrus.get_by_label("For", exact=True).check()
        on_borealis.get_by_label("Against", exact=True).check()
        on_borealis.get_by_label("Reason (optional)").fill("Platinum first")
        proposal.get_by_label("For", exact=True).check()
        proposal.get_by_label("Reason (optional)").fill("Our customers ask for it")
        on_cirrus.get_by_role("button", name="Sign with my wallet").click()
        on_borealis.get_by_role("button", name="Vote", exact=True).click()
        proposal.get_by_role("button", name="Vote", exact=True).click()
        announced(cirrus.page, "You voted For, signed with your wallet.")
        announced(borealis.page, "You voted Against.")
        announced(page, "You voted For.")

        expect(proposal.locator(".count-for strong")).to_have_text("2")
        expect(proposal.locator(".count-against strong")).to_have_text("1")
        expect(proposal.locator(".count-quorum")).to_contain_text(
            "quorum 2 of 3 eligible members, reached"
        )
        expect(proposal.locator(".vote-list li")).to_have_count(3)
        votes = proposal.locator(".vote-list")
        expect(votes).to_contain_text(f"{borealis_name}: Against — Platinum first")
        expect(votes).to_contain_text(f"{aurora_name}: For — Our customers ask for it")
        expect(votes).to_contain_text(f"{cirrus_name}: For")
        [ballot] = signed
        assert ballot["address"].lower() == cirrus_address.lower()
        assert ballot["typed"]["primaryType"] == "Ballot"
        assert ballot["typed"]["message"]["voter"].lower() == cirrus_address.lower()
        assert any(u.endswith("/vendor/ethers.min.js") for u in cirrus.requested)

        # ---------------------------------------------------------- the vote ends; queue, execute
        expect(proposal.locator(".state")).to_have_text("Succeeded", timeout=STATE_TIMEOUT_MS)
        page.screenshot(path=screenshot_path("web-app-succeeded"), full_page=True)
        proposal.get_by_role("button", name="Queue for execution").click()
        announced(page, "Queued.")
        expect(proposal.locator(".state")).to_have_text("Queued")
        expect(proposal.locator(".steps")).to_contain_text("Executable from")
        page.screenshot(path=screenshot_path("web-app-queued"), full_page=True)
        execute = proposal.get_by_role("button", name="Execute")
        expect(execute).to_be_visible(timeout=STATE_TIMEOUT_MS)
        execute.click()
        announced(page, "Executed.")
        expect(proposal.locator(".state")).to_have_text("Executed")
        expect(proposal.locator(".steps .what")).to_have_text(
            [
                "Created",
                "Voting starts",
                re.compile("^Voting ends"),  # (extended, if quorum came in its last seconds)
                "Queued",
                "Executable from",
                "Executed",
            ]
        )
        page.screenshot(path=screenshot_path("web-app-executed"), full_page=True)

        answer = aurora_api(PROPOSAL, {"id": proposal_id})["proposal"]
        assert answer["state"] == "EXECUTED"
        assert sorted(
            (v["node"]["voter"], v["node"]["support"], v["node"]["reason"])
            for v in answer["votes"]["edges"]
        ) == sorted(
            [
                (cooperative.addresses[0], "FOR", "Our customers ask for it"),
                (cooperative.addresses[1], "AGAINST", "Platinum first"),
                (cirrus_address, "FOR", ""),
            ]
        )
        templates = aurora_api("{ slaTemplates { id name inForce } }")["slaTemplates"]
        assert [(t["name"], t["inForce"]) for t in templates] == [("Gold", True)]

        assert_fits_a_phone(page)
        assert unreached_by_tab(page) == []

        # ---------------------------------------------------------- the CFO view
        services = a_month_billed(cooperative, templates[0]["id"])
        page.get_by_role("link", name="CFO view").click()
        expect(page.locator("#balances-table tbody tr")).to_have_count(1)
        assert_cfo_view_is_the_apis(page, aurora_api, cooperative)
        chart = page.locator("#balances-chart svg")
        expect(chart).to_contain_text(f"{borealis_name} · EUR")
        page.locator(".breakdown summary").click()
        page.screenshot(path=screenshot_path("web-app-cfo"), full_page=True)
        assert_fits_a_phone(page)
        assert unreached_by_tab(page) == []

        # Aurora endorses the credit it is owed; it no longer waits for Aurora.
        # a credit's id: SlaCredit:<service>-<period number>
        down_services_credit = f'li.credit[data-id^="SlaCredit:{short_id(services[0])}-"]'
        credit = page.locator(down_services_credit)
        credit.get_by_role("button", name="Endorse").click()
        announced(page, "Credit endorsed.")
        expect(page.locator("#credit-list")).to_have_text("No credit awaits your endorsement.")
        assert_cfo_view_is_the_apis(page, aurora_api, cooperative)

        # Borealis disputes it, naming the ticket and saying why.
        borealis.page.get_by_role("link", name="CFO view").click()
        on_borealis = borealis.page.locator(down_services_credit)
        on_borealis.get_by_role("button", name="Dispute…").click()
        expect(on_borealis.get_by_role("checkbox")).to_be_checked()
        on_borealis.get_by_label("Your statement").fill("Our logs show the port up all along")
        on_borealis.get_by_role("button", name="Send the dispute").click()
        announced(borealis.page, "Credit disputed")
        credits = borealis_api(CFO_NUMBERS)["slaCredits"]["edges"]
        assert [c["node"]["state"] for c in credits if c["node"]["serviceId"] == services[0]] == [
            "disputed"
        ]
        assert_cfo_view_is_the_apis(borealis.page, borealis_api, cooperative)
        page.get_by_role("button", name="Refresh").click()
        assert_cfo_view_is_the_apis(page, aurora_api, cooperative)
        borealis.page.screenshot(path=screenshot_path("web-app-cfo-disputed"), full_page=True)

        # ---------------------------------------------------------- signing out forgets the key
        page.get_by_role("button", name="Sign out").click()
        announced(page, "Signed out")
        expect(page.get_by_label("API key")).to_be_visible()
        assert page.evaluate(f"[sessionStorage.getItem('{KEY_NAME}'), localStorage.length]") == [
            None,
            0,
        ]

        for member in (aurora, borealis, cirrus):
            assert_nothing_refused(member, cooperative.url)
        assert not any("ethers" in url for url in aurora.requested + borealis.requested)


REGISTER = "mutation($in: RegisterServicesInput!) { registerServices(input: $in) { services { id } errors { code message } } }"
CONFIRM = "mutation($ids: [ID!]!) { confirmServices(input: {serviceIds: $ids}) { errors { code message } } }"
OPEN = "mutation($in: OpenTroubleTicketInput!) { openTroubleTicket(input: $in) { tickets { id } errors { code message } } }"
TICKET_STEP = "mutation($ids: [ID!]!) {{ {name}(input: {{ticketIds: $ids}}) {{ errors {{ code message }} }} }}"
RESOLVE = "mutation($in: ResolveTroubleTicketInput!) { resolveTroubleTicket(input: $in) { errors { code message } } }"
CLOSE_PERIOD = (
    "mutation($in: SlaPeriodInput!) { closeSlaPeriod(input: $in) { errors { code message } } }"
)
ISSUE = "mutation($in: IssueInvoiceInput!) { issueInvoice(input: $in) { errors { code message } } }"
RUN_CYCLE = "mutation($in: RunSettlementCycleInput!) { runSettlementCycle(input: $in) { errors { code message } } }"


def a_month_billed(cooperative: Cooperative, template_id: str) -> list[str]:
    """A month billed: Borealis has long provided Aurora two EUR circuits; this month the
    first is down for an hour. The month ends (the chain's clock moved past it, as the
    assurance tests do: the contracts close no month before they were deployed), the period
    is closed, the second's credit (none: no outage, so final at the close, with nothing to
    endorse) invoiced, and the operator runs the settlement cycle; the first's credit awaits
    both parties' endorsement. Returns the two services' ids."""
    aurora, borealis = cooperative.members[:2]
    chain = ChainGateway(cooperative.platform.node_url())
    now = datetime.fromtimestamp(chain.w3.eth.get_block("latest")["timestamp"], UTC)
    period = now.strftime("%Y-%m")
    circuits = [
        {
            "slaTemplate": template_id,
            "currency": "EUR",
            "mrc": mrc,
            "startedAt": (now - timedelta(days=400)).isoformat(),
        }
        for mrc in ("100000", "200000")
    ]
    registered = borealis.ok(
        "registerServices",
        REGISTER,
        {"in": {"buyer": cooperative.addresses[0], "circuits": circuits}},
    )
    services = [s["id"] for s in registered["services"]]
    aurora.ok("confirmServices", CONFIRM, {"ids": services})
    down = max(now - timedelta(hours=2), datetime(now.year, now.month, 1, tzinfo=UTC))
    opening = {
        "serviceId": services[0],
        "impact": "down",
        "startedAt": down.isoformat(),
        "description": "LOS on port 3",
    }
    [ticket] = aurora.ok("openTroubleTicket", OPEN, {"in": {"tickets": [opening]}})["tickets"]
    step = TICKET_STEP.format(name="acknowledgeTroubleTicket")
    borealis.ok("acknowledgeTroubleTicket", step, {"ids": [ticket["id"]]})
    resolution = {
        "ticketId": ticket["id"],
        "endedAt": (down + timedelta(hours=1)).isoformat(),
        "rootCause": "fiberCut",
    }
    borealis.ok("resolveTroubleTicket", RESOLVE, {"in": {"tickets": [resolution]}})
    step = TICKET_STEP.format(name="closeTroubleTicket")
    aurora.ok("closeTroubleTicket", step, {"ids": [ticket["id"]]})
    chain.increase_time(35 * 86_400)
    aurora.ok("closeSlaPeriod", CLOSE_PERIOD, {"in": {"period": period, "serviceIds": services}})
    invoice = {
        "buyer": cooperative.addresses[0],
        "period": period,
        "currency": "EUR",
        "serviceIds": services[1:],
    }
    borealis.ok("issueInvoice", ISSUE, {"in": invoice})
    cooperative.admin.ok("runSettlementCycle", RUN_CYCLE, {"in": {"currency": "EUR"}})
    return services


def eventually(read: Callable[[], Any], expected: Any, page: Page, timeout_s: float = 10) -> None:
    """`read()` equals `expected` within the timeout (the page reloads after each step)."""
    deadline = time.monotonic() + timeout_s
    while read() != expected and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert read() == expected


def assert_cfo_view_is_the_apis(page: Page, api: Api, cooperative: Cooperative) -> None:
    """Every amount and record the CFO view shows is the one the API gives the same key."""
    numbers = api(CFO_NUMBERS)
    name = dict(zip(cooperative.addresses, cooperative.names, strict=True))
    me = api(ME)["me"]["member"]["address"]

    balances = numbers["counterpartyBalances"]
    for b in balances:  # the sums are those of `liabilities`
        for direction in ("payable", "receivable"):
            rows = [
                r
                for r in numbers["liabilities"]
                if (r["counterparty"], r["currency"], r["direction"])
                == (b["counterparty"], b["currency"], direction)
            ]
            assert int(b[direction]) == sum(
                int(r["creditsCalculated"]) + int(r["creditsEndorsed"]) + int(r["invoiced"])
                for r in rows
            )
        assert int(b["net"]) == int(b["receivable"]) - int(b["payable"])
    eventually(
        lambda: table_rows(page.locator("#balances-table table")),
        [
            [
                name[b["counterparty"]],
                b["currency"],
                money(b["payable"], b["currency"]),
                money(b["receivable"], b["currency"]),
                money(b["net"], b["currency"]),
            ]
            for b in balances
        ],
        page,
    )
    chart = page.locator("#balances-chart svg")
    for b in balances:
        expect(chart).to_contain_text(f"You owe {money(b['payable'], b['currency'])}")
        expect(chart).to_contain_text(f"Owed to you {money(b['receivable'], b['currency'])}")
    widths = chart.locator("rect").evaluate_all("rects => rects.map(r => r.width.baseVal.value)")
    largest = max(max(int(b["payable"]), int(b["receivable"])) for b in balances)
    drawn = [int(b[d]) * 320 / largest for b in balances for d in ("payable", "receivable")]
    assert widths == pytest.approx([max(w, 1) for w in drawn], abs=0.5)

    assert table_rows(page.locator("#liabilities-table table")) == [
        [
            f"{name[r['counterparty']]} ({r['currency']})",
            "You owe" if r["direction"] == "payable" else "Owed to you",
            money(r["creditsCalculated"], r["currency"]),
            money(r["creditsEndorsed"], r["currency"]),
            money(r["invoiced"], r["currency"]),
        ]
        for r in numbers["liabilities"]
    ]

    awaiting = [
        c["node"]["id"]
        for c in numbers["slaCredits"]["edges"]
        if c["node"]["state"] == "calculated"
        and not c["node"]["endorsedByBuyer" if c["node"]["buyer"] == me else "endorsedBySeller"]
    ]
    assert page.locator("li.credit").evaluate_all("items => items.map(i => i.dataset.id)") == (
        awaiting
    )

    invoices = [e["node"] for e in numbers["invoices"]["edges"]]
    assert invoices, "the month was invoiced"
    shown = table_rows(page.locator("#invoice-table table"))
    assert [[row[0], *row[4:]] for row in shown] == [
        [
            f"#{short_id(i['id'])}",
            money(i["charges"]),
            money(i["credits"]),
            money(i["amountDue"]),
            f"cycle #{short_id(i['cycleId'])}"
            if i["cycleId"] is not None
            else "not in a cycle yet",
        ]
        for i in invoices
    ]
    cycles = [e["node"] for e in numbers["settlementCycles"]["edges"]]
    assert cycles, "the operator ran a cycle"
    shown = table_rows(page.locator("#cycle-table table"))
    assert [[row[0], row[5]] for row in shown] == [
        [f"#{short_id(c['id'])} (EUR)", money(c["net"])] for c in cycles
    ]
