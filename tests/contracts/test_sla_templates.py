"""SlaTemplates: adoption of well-formed templates only (checked by `validate` and again on
`adopt`), versions per name, retirement; only the Timelock changes anything."""

import boa
import pytest
from eth_utils import keccak

from governance.rules import Kind, ProposalState

from . import dao
from .helpers import ZERO_BYTES32, events

DOCUMENT = keccak(text="salted SLA document")
TIERS = [(999_500, 1_000), (999_000, 2_500), (990_000, 10_000)]


def template(**changes):
    """`adopt`'s arguments, as a dict, with `changes` applied."""
    args = {
        "name": "Gold availability",
        "document": DOCUMENT,
        "metric": 0,
        "objective_ppm": 999_500,
        "measurement_period": 0,
        "tiers": TIERS,
        "resolution_window": 3 * 86400,
        "exclude_planned_maintenance": True,
    }
    args.update(changes)
    return list(args.values())


@pytest.fixture(scope="session")
def sla_templates_contract(governance_contracts):
    return governance_contracts.sla_templates


@pytest.fixture
def templates(sla_templates_contract, timelock):
    return sla_templates_contract.deploy(timelock)


def test_constructor_rejects_a_zero_timelock(sla_templates_contract):
    with boa.reverts("SlaTemplates: zero timelock"):
        sla_templates_contract.deploy(dao.ZERO_ADDRESS)


def test_timelock_adopts_a_valid_template(templates, timelock):
    assert templates.validate(*template())
    template_id = templates.adopt(*template(), sender=timelock)

    assert template_id == 1
    assert events(templates, "TemplateAdopted") == [
        {"template_id": 1, "name": "Gold availability", "version": 1, "document": DOCUMENT}
    ]
    assert templates.template_count() == 1
    assert templates.latest_version("Gold availability") == 1
    assert templates.is_adopted(1)
    assert templates.template(1) == (
        "Gold availability",
        1,
        DOCUMENT,
        0,
        999_500,
        0,
        TIERS,
        3 * 86400,
        True,
        boa.env.timestamp,
        0,
    )


def test_adopting_the_same_name_again_makes_a_new_version(templates, timelock):
    templates.adopt(*template(), sender=timelock)
    other = keccak(text="another document")
    templates.adopt(*template(name="Silver"), sender=timelock)
    template_id = templates.adopt(*template(document=other, objective_ppm=999_900), sender=timelock)

    assert template_id == 3
    assert events(templates, "TemplateAdopted") == [
        {"template_id": 3, "name": "Gold availability", "version": 2, "document": other}
    ]
    assert templates.latest_version("Gold availability") == 2
    assert templates.latest_version("Silver") == 1
    assert [templates.template(i)[:2] for i in (1, 2, 3)] == [
        ("Gold availability", 1),
        ("Silver", 1),
        ("Gold availability", 2),
    ]
    # both versions are in force until retired
    assert templates.is_adopted(1) and templates.is_adopted(3)


@pytest.mark.parametrize(
    "tiers",
    [
        [(999_500, 10_000)],  # first floor equal to the objective, full credit
        [(0, 1)],  # a single tier at zero availability
        [(999_500 - i, 1 + i) for i in range(8)],  # the maximum number of tiers
    ],
    ids=["floor-at-objective", "zero-floor", "eight-tiers"],
)
def test_edge_templates_are_valid(templates, timelock, tiers):
    assert templates.validate(*template(tiers=tiers))
    templates.adopt(*template(tiers=tiers), sender=timelock)
    assert templates.template(1).tiers == tiers


def test_objective_of_exactly_one_hundred_percent_is_valid(templates, timelock):
    args = template(objective_ppm=1_000_000, tiers=[(1_000_000, 100), (999_000, 200)])
    assert templates.validate(*args)
    templates.adopt(*args, sender=timelock)
    assert templates.template(1).objective_ppm == 1_000_000


MALFORMED = {
    "empty-name": ({"name": ""}, "SlaTemplates: empty name"),
    "no-document": ({"document": ZERO_BYTES32}, "SlaTemplates: no document commitment"),
    "unknown-metric": ({"metric": 1}, "SlaTemplates: unknown metric"),
    "unknown-period": ({"measurement_period": 1}, "SlaTemplates: unknown measurement period"),
    "zero-objective": ({"objective_ppm": 0}, "SlaTemplates: zero objective"),
    "objective-over-100%": ({"objective_ppm": 1_000_001}, "SlaTemplates: objective over 100 %"),
    "no-tiers": ({"tiers": []}, "SlaTemplates: no credit tiers"),
    "first-floor-above-objective": (
        {"tiers": [(999_501, 1_000)]},
        "SlaTemplates: tier floors must fall and not exceed the objective",
    ),
    "floors-equal": (
        {"tiers": [(999_000, 1_000), (999_000, 2_000)]},
        "SlaTemplates: tier floors must fall and not exceed the objective",
    ),
    "floors-rising": (
        {"tiers": [(990_000, 1_000), (999_000, 2_000)]},
        "SlaTemplates: tier floors must fall and not exceed the objective",
    ),
    "credits-equal": (
        {"tiers": [(999_000, 1_000), (990_000, 1_000)]},
        "SlaTemplates: credits must rise as availability falls",
    ),
    "credits-falling": (
        {"tiers": [(999_000, 2_000), (990_000, 1_000)]},
        "SlaTemplates: credits must rise as availability falls",
    ),
    "zero-credit": (
        {"tiers": [(999_000, 0)]},
        "SlaTemplates: credits must rise as availability falls",
    ),
    "credit-over-100%": (
        {"tiers": [(999_000, 5_000), (990_000, 10_001)]},
        "SlaTemplates: credit over 100 % of MRC",
    ),
}


@pytest.mark.parametrize("case", MALFORMED.values(), ids=MALFORMED.keys())
def test_validate_rejects_a_malformed_template(templates, case):
    changes, reason = case
    with boa.reverts(reason):
        templates.validate(*template(**changes))


@pytest.mark.parametrize("case", MALFORMED.values(), ids=MALFORMED.keys())
def test_adopt_rejects_a_malformed_template(templates, timelock, case):
    changes, reason = case
    with boa.reverts(reason):
        templates.adopt(*template(**changes), sender=timelock)
    assert templates.template_count() == 0
    assert not templates.is_adopted(1)


def test_a_malformed_template_voted_through_still_cannot_be_adopted(system):
    bad = template(tiers=[(999_000, 2_000), (990_000, 1_000)])
    action = dao.call(system.sla_templates, "adopt", *bad)
    proposal = dao.propose(system, Kind.ADOPT_SLA_TEMPLATE, [action], "Bad", system.founders[0])
    dao.pass_vote(proposal, system.founders[:3])
    proposal.queue()
    boa.env.timestamp = proposal.data().eta
    with boa.reverts("SlaTemplates: credits must rise as availability falls"):
        proposal.execute()
    assert proposal.state() == ProposalState.QUEUED
    assert system.sla_templates.template_count() == 0


@pytest.mark.parametrize("caller", ["founder", "stranger"])
def test_only_the_timelock_adopts(templates, founders, stranger, caller):
    sender = founders[0] if caller == "founder" else stranger
    with boa.reverts("SlaTemplates: only the timelock"):
        templates.adopt(*template(), sender=sender)
    assert templates.template_count() == 0


# ------------------------------------------------------------------ retire


def test_timelock_retires_a_template(templates, timelock):
    templates.adopt(*template(), sender=timelock)
    adopted_at = boa.env.timestamp
    boa.env.time_travel(seconds=86400)
    templates.retire(1, sender=timelock)

    assert events(templates, "TemplateRetired") == [{"template_id": 1}]
    assert not templates.is_adopted(1)
    record = templates.template(1)
    assert (record.adopted_at, record.retired_at) == (adopted_at, adopted_at + 86400)
    assert record.name == "Gold availability"  # a retired template stays readable


def test_retire_twice_is_refused(templates, timelock):
    templates.adopt(*template(), sender=timelock)
    templates.retire(1, sender=timelock)
    retired_at = templates.template(1).retired_at
    boa.env.time_travel(seconds=60)
    with boa.reverts("SlaTemplates: not in force"):
        templates.retire(1, sender=timelock)
    assert templates.template(1).retired_at == retired_at


def test_retire_an_unknown_template_is_refused(templates, timelock):
    with boa.reverts("SlaTemplates: not in force"):
        templates.retire(1, sender=timelock)
    assert not templates.is_adopted(1)
    assert templates.template(1).name == ""


def test_only_the_timelock_retires(templates, timelock, founders):
    templates.adopt(*template(), sender=timelock)
    with boa.reverts("SlaTemplates: only the timelock"):
        templates.retire(1, sender=founders[0])
    assert templates.is_adopted(1)
