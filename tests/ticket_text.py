"""A seeded generator of NOC trouble-ticket descriptions, one root cause each, for the
root-cause suggestions' accuracy test (tests/test_root_causes.py).

Each description is what a buyer's NOC writes when it opens a ticket: one or two phrases
that hint at the cause, among words every ticket shares ("link down", "please
investigate"), site names, circuit and ticket ids, with typos. Hints cross causes on
purpose, as real ones do ("rx power" in a fibre cut, "power supply" in a hardware fault,
"fibre" in a third party's outage or a planned re-routing), and a share of tickets says
nothing about the cause at all. The causes are the platform's own vocabulary
(cooperative.states.RootCause), so every label is one resolveTroubleTicket takes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from cooperative.states import RootCause

# What each cause looks like from the buyer's side (the slots are filled at random).
HINTS: dict[RootCause, list[str]] = {
    RootCause.FIBER_CUT: [
        "LOS on {port} at {site}, rx power {dbm} dBm",
        "total loss of signal in both directions towards {site2}",
        "OTDR shows a break at {km} km from {site}",
        "excavator cut the duct near {site}, civil works on the route",
        "fibre damaged by a construction crew on the {site}-{site2} route",
        "all wavelengths on the {site}-{site2} span are dark",
        "splicing team dispatched to {site}",
        "cable cut reported by the municipality on {street}",
        "no light received on either fibre of the span",
        "rodents chewed the aerial cable between poles {n} and {m}",
        "backhoe hit the cable, fibre break confirmed",
        "optical amplifier at {site} reports input loss, upstream span cut",
    ],
    RootCause.POWER: [
        "mains failure at {site}, site running on batteries",
        "rectifier alarm at the {site} PoP",
        "generator failed to start after the utility outage",
        "UPS on battery, low voltage alarm at {site}",
        "power outage in the {city} area reported by the utility",
        "PDU breaker tripped in rack {rack}",
        "DC plant alarm, -48V bus low at {site}",
        "grid blackout, the whole site is dark",
        "batteries exhausted before the mains came back",
        "electricity cut at {site} after a storm",
        "ATS did not switch over to the generator",
    ],
    RootCause.EQUIPMENT: [
        "line card failed in slot {n} of {site}-pe{m}",
        "faulty SFP on {port}, optic replaced",
        "router {site}-pe{n} rebooted with a kernel crash",
        "fan tray failure, chassis overheating at {site}",
        "CRC errors rising on {port}, bad transceiver",
        "power supply unit failed on the chassis",
        "memory parity error, card reset itself",
        "port flapping, hardware fault on the optic module",
        "firmware bug caused a linecard reload",
        "RMA raised for the failed module at {site}",
        "switch fabric errors on {site}-agg{n}",
        "laser degradation on the transponder, tx power low",
    ],
    RootCause.CONFIGURATION: [
        "VLAN {n} missing on the trunk after change {chg}",
        "MTU mismatch after change {chg}",
        "BGP session down after a config push",
        "wrong QoS policy applied on {port}",
        "ACL blocking traffic since change {chg}",
        "routing loop after a static route change",
        "IP address conflict after provisioning",
        "LACP misconfigured on the bundle to {site2}",
        "rollback of change {chg} restored the service",
        "wrong VRF on the subinterface",
        "speed and duplex mismatch configured on {port}",
        "provisioning error, circuit mapped to the wrong port",
    ],
    RootCause.THIRD_PARTY: [
        "tail circuit from {provider} is down",
        "{provider} reports an outage on their network, their ref {ref}",
        "local loop provider investigating",
        "cross connect issue at the {provider} colocation in {city}",
        "upstream carrier {provider} has a fibre outage",
        "awaiting the access provider {provider}",
        "leased wavelength from {provider} is down",
        "incident on the {provider} side, their ticket {ref}",
        "NNI to {provider} down, escalated to the partner",
        "subcontracted last mile from {provider} failed",
    ],
    RootCause.PLANNED_MAINTENANCE: [
        "outage during maintenance window {mw}",
        "planned works notified under {mw}",
        "scheduled software upgrade on the {site} PE",
        "announced maintenance overran its window",
        "service down during the planned fibre re-routing",
        "maintenance notification {mw} sent on {date}",
        "scheduled node migration at {site}",
        "planned power works at {site}, notified in {mw}",
        "change freeze exception, scheduled intervention {mw}",
    ],
    RootCause.CUSTOMER_SIDE: [
        "CPE at the customer premises powered off",
        "customer router misconfigured, our side clean",
        "loop test to the demarc OK, fault beyond the NTU",
        "end user unplugged the patch cable",
        "customer LAN switch failed",
        "site access refused by the customer, could not test",
        "customer firewall blocking the traffic",
        "power outage at the customer premises",
        "customer moved the CPE to another rack",
        "customer changed the IP addressing on their side",
    ],
    RootCause.UNKNOWN: [
        "intermittent packet loss, no alarms found",
        "service restored without intervention",
        "cleared while testing, cause not found",
        "unable to reproduce, monitoring",
        "short outage, no fault found on our network",
        "latency spikes, cause under investigation",
        "self-cleared before the engineer arrived",
        "no fault found, closing after observation",
    ],
}

# What the buyer's monitoring sees: symptoms several causes share, with how often each
# cause shows it (weights by cause, in RootCause order: fiberCut, power, equipment,
# configuration, thirdParty, plannedMaintenance, customerSide, unknown).
SYMPTOMS: dict[str, tuple[int, ...]] = {
    "LOS on {port}": (6, 2, 2, 0, 3, 2, 1, 1),
    "low rx power on {port}": (3, 0, 2, 0, 1, 0, 1, 1),
    "link flapping": (1, 1, 4, 1, 2, 0, 1, 3),
    "packet loss": (0, 0, 2, 2, 2, 0, 1, 4),
    "CRC errors": (1, 0, 4, 1, 1, 0, 1, 1),
    "all circuits at {site} down": (3, 5, 1, 0, 1, 3, 0, 0),
    "node {site}-pe{n} unreachable": (0, 4, 3, 1, 0, 2, 0, 1),
    "BGP down": (0, 0, 1, 3, 1, 1, 2, 1),
    "high latency": (0, 0, 1, 2, 2, 0, 1, 3),
    "link up but no traffic passing": (0, 0, 1, 4, 1, 0, 3, 1),
    "ARP not resolving": (0, 0, 0, 3, 0, 0, 3, 1),
    "alarms on multiple circuits": (2, 2, 1, 0, 2, 2, 0, 1),
}
HINT_SHARE = 0.8  # tickets with a hint of their cause; the others show symptoms only
VAGUE_SHARE = 0.04  # tickets that only say what every ticket says: no cause can be read

# How each cause usually hits the service (impacts as the API names them).
IMPACTS: dict[RootCause, list[str]] = {
    RootCause.FIBER_CUT: ["down"] * 8 + ["degraded"],
    RootCause.POWER: ["down"] * 6 + ["intermittent"],
    RootCause.EQUIPMENT: ["down", "degraded", "degraded", "intermittent"],
    RootCause.CONFIGURATION: ["down", "down", "degraded"],
    RootCause.THIRD_PARTY: ["down"] * 3 + ["degraded"],
    RootCause.PLANNED_MAINTENANCE: ["down"] * 4 + ["degraded"],
    RootCause.CUSTOMER_SIDE: ["down"] * 3 + ["intermittent"],
    RootCause.UNKNOWN: ["intermittent", "intermittent", "degraded", "down"],
}

# What every ticket says, whatever the cause.
SHARED = [
    "customer reports the circuit down",
    "link down",
    "please investigate urgently",
    "service affected",
    "monitoring shows alarms",
    "escalated by the NOC",
    "P1",
    "P2, business impact",
    "traffic impacted since {time} UTC",
    "circuit {cid}",
    "our ref {tid}",
    "contact {name} on site",
    "packet loss towards {site2}",
    "please confirm an ETR",
    "second ticket for this circuit this week",
]

SITES = ["FRA1", "AMS3", "LON-TC", "PAR-TH2", "MAD2", "MIL1", "VIE", "ZRH-2", "WAW1", "CPH", "DUB3", "LIS1"]  # fmt: skip
CITIES = ["Frankfurt", "Amsterdam", "London", "Paris", "Madrid", "Milan", "Vienna", "Zurich"]
PROVIDERS = ["Telia", "Colt", "Zayo", "Lumen", "Orange Wholesale", "BT Wholesale", "Eunetworks", "Interxion"]  # fmt: skip
STREETS = ["Hauptstrasse", "Rue de Lyon", "Calle Mayor", "Keizersgracht", "Via Roma", "High Street"]
NAMES = ["Jan", "Marta", "Luis", "Anke", "Pierre", "Sofia", "Tom", "Ines"]
PORTS = ["xe-0/0/{n}", "ge-1/2/{n}", "Te0/{n}/1", "et-2/0/{n}", "port {n}"]


@dataclass(frozen=True)
class GeneratedTicket:
    description: str
    impact: str
    cause: str  # a RootCause api name
    clue: str  # what the description tells of the cause: "hint", "symptoms" or "none"


def tickets(per_cause: int, seed: int = 0) -> list[GeneratedTicket]:
    """`per_cause` tickets of every root cause, shuffled; the same ones for the same seed."""
    rng = random.Random(seed)
    made = [_ticket(rng, cause) for cause in RootCause if cause.api for _ in range(per_cause)]
    rng.shuffle(made)
    return made


def ticket(cause: RootCause, seed: int = 0) -> GeneratedTicket:
    """One ticket of `cause` whose description hints at it."""
    return _ticket(random.Random(seed), cause, clue="hint")


def _ticket(rng: random.Random, cause: RootCause, clue: str | None = None) -> GeneratedTicket:
    if clue is None:
        draw = rng.random()
        clue = (
            "none"
            if draw < VAGUE_SHARE
            else "hint"
            if draw < VAGUE_SHARE + HINT_SHARE
            else "symptoms"
        )
    hints = rng.sample(HINTS[cause], rng.choice([1, 1, 2])) if clue == "hint" else []
    symptoms = _symptoms(rng, cause, rng.choice([1, 1, 2])) if clue != "none" else []
    shared = rng.sample(SHARED, rng.choice([1, 2, 2, 3]))
    parts = [_fill(rng, phrase) for phrase in hints + symptoms + shared]
    rng.shuffle(parts)
    text = rng.choice([". ", "; ", " - ", ", "]).join(parts)
    if rng.random() < 0.3:
        text = f"{rng.choice(['INC', 'TT-', 'CS'])}{rng.randint(10_000, 999_999)} {text}"
    if rng.random() < 0.1:
        text = text.upper()
    description = " ".join(_typo(rng, word) for word in text.split())
    return GeneratedTicket(description, rng.choice(IMPACTS[cause]), cause.api, clue)


def _symptoms(rng: random.Random, cause: RootCause, count: int) -> list[str]:
    column = [c for c in RootCause if c.api].index(cause)
    names = [name for name, weights in SYMPTOMS.items() if weights[column]]
    weights = [SYMPTOMS[name][column] for name in names]
    return list(dict.fromkeys(rng.choices(names, weights, k=count)))


def _fill(rng: random.Random, phrase: str) -> str:
    site, site2 = rng.sample(SITES, 2)
    values = {
        "site": site,
        "site2": site2,
        "city": rng.choice(CITIES),
        "provider": rng.choice(PROVIDERS),
        "street": rng.choice(STREETS),
        "name": rng.choice(NAMES),
        "port": rng.choice(PORTS).format(n=rng.randint(0, 47)),
        "n": rng.randint(1, 16),
        "m": rng.randint(17, 99),
        "km": f"{rng.uniform(0.2, 80):.1f}",
        "dbm": f"-{rng.randint(30, 40)}.{rng.randint(0, 9)}",
        "rack": f"{rng.choice('ABCDEF')}{rng.randint(1, 30):02d}",
        "chg": f"CHG{rng.randint(100_000, 999_999)}",
        "mw": f"MW-{rng.randint(2025, 2027)}-{rng.randint(1, 999):03d}",
        "ref": f"{rng.choice(['SR', 'INC', 'CASE'])}{rng.randint(1_000_000, 9_999_999)}",
        "date": f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}",
        "time": f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
        "cid": f"{rng.choice(SITES)}/{rng.choice(['ETH', 'WAVE', 'IPT'])}/{rng.randint(1000, 99999)}",
        "tid": f"{rng.choice(['T', 'NOC-', 'REF'])}{rng.randint(1000, 99999)}",
    }
    return phrase.format(**values)


def _typo(rng: random.Random, word: str, rate: float = 0.04) -> str:
    """A word as a hurried NOC engineer types it: now and then a letter swapped, dropped
    or doubled."""
    if len(word) < 4 or rng.random() >= rate:
        return word
    at = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    if kind == 1:
        return word[:at] + word[at + 1 :]
    return word[:at] + word[at] + word[at:]
