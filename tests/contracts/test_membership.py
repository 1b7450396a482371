"""Membership: founders at deployment, admission and removal by the timelock only, the
register's epochs, permanent member indexes and eligibility at a snapshot."""

import boa
import pytest

from .conftest import FOUNDER_NAMES
from .helpers import ZERO_ADDRESS, events, past_periods

MAX_PAST_PERIODS = 16


def test_constructor_admits_every_founder_with_name_index_and_epoch(membership, founders):
    assert membership.member_count() == len(founders)
    assert membership.epoch() == len(founders)
    assert membership.last_index() == len(founders)
    for i, (account, name) in enumerate(zip(founders, FOUNDER_NAMES, strict=True), start=1):
        assert membership.is_member(account)
        # (name, index, current period (joined epoch, left epoch))
        assert membership.members(account) == (name, i, (i, 0))
        assert past_periods(membership, account) == []


def test_constructor_records_the_member_count_after_every_founder(membership, founders):
    assert [membership.member_count_at(e) for e in range(len(founders) + 2)] == [0, 1, 2, 3, 0]


def test_constructor_sets_the_timelock(membership, timelock):
    assert membership.timelock() == timelock


def test_constructor_logs_member_admitted_for_each_founder(membership_contract, timelock, founders):
    membership = membership_contract.deploy(timelock, founders, FOUNDER_NAMES)
    assert events(membership, "MemberAdmitted") == [
        {"member": account, "name": name, "index": i, "epoch": i}
        for i, (account, name) in enumerate(zip(founders, FOUNDER_NAMES, strict=True), start=1)
    ]


def test_strangers_and_timelock_are_not_members(membership, stranger, timelock):
    assert not membership.is_member(stranger)
    assert not membership.is_member(timelock)
    assert membership.members(stranger) == ("", 0, (0, 0))
    assert not any(membership.was_member_at(stranger, s) for s in range(5))


def test_constructor_rejects_a_zero_timelock(membership_contract, founders):
    with boa.reverts("Membership: zero timelock"):
        membership_contract.deploy(ZERO_ADDRESS, founders, FOUNDER_NAMES)


def test_constructor_rejects_no_founders(membership_contract, timelock):
    with boa.reverts("Membership: no founders"):
        membership_contract.deploy(timelock, [], [])


@pytest.mark.parametrize("n_names", [2, 4], ids=["fewer-names", "more-names"])
def test_constructor_rejects_founders_and_names_of_different_length(
    membership_contract, timelock, founders, n_names
):
    names = [f"Carrier {i}" for i in range(n_names)]
    with boa.reverts("Membership: founders and names differ in length"):
        membership_contract.deploy(timelock, founders, names)


def test_constructor_rejects_a_duplicate_founder(membership_contract, timelock, founders):
    with boa.reverts("Membership: already a member"):
        membership_contract.deploy(timelock, [*founders, founders[0]], [*FOUNDER_NAMES, "Again"])


def test_constructor_rejects_a_zero_address_founder(membership_contract, timelock, founders):
    with boa.reverts("Membership: zero address"):
        membership_contract.deploy(timelock, [founders[0], ZERO_ADDRESS], ["Alpha", "Nobody"])


def test_constructor_rejects_an_empty_founder_name(membership_contract, timelock, founders):
    with boa.reverts("Membership: empty name"):
        membership_contract.deploy(timelock, founders[:2], ["Alpha", ""])


# ------------------------------------------------------------------ admit


def test_timelock_admits_a_member_with_the_next_index_and_epoch(
    membership, timelock, newcomer, founders
):
    membership.admit(newcomer, "Delta Telecom", sender=timelock)

    assert events(membership, "MemberAdmitted") == [
        {"member": newcomer, "name": "Delta Telecom", "index": 4, "epoch": 4}
    ]
    assert membership.is_member(newcomer)
    assert membership.member_count() == len(founders) + 1
    assert membership.epoch() == 4
    assert membership.member_count_at(4) == 4
    assert membership.last_index() == 4
    assert membership.members(newcomer) == ("Delta Telecom", 4, (4, 0))
    # eligible from its own epoch on, not at earlier snapshots
    assert [membership.was_member_at(newcomer, s) for s in range(6)] == [False] * 4 + [True] * 2


def test_admit_accepts_a_name_of_the_maximum_length(membership, timelock, newcomer):
    name = "N" * 64
    membership.admit(newcomer, name, sender=timelock)
    assert membership.members(newcomer).name == name


@pytest.mark.parametrize("caller", ["founder", "stranger", "newcomer"])
def test_only_the_timelock_can_admit(membership, founders, stranger, newcomer, caller):
    sender = {"founder": founders[0], "stranger": stranger, "newcomer": newcomer}[caller]
    with boa.reverts("Membership: only the timelock"):
        membership.admit(newcomer, "Delta Telecom", sender=sender)
    assert not membership.is_member(newcomer)
    assert membership.member_count() == len(founders)
    assert membership.epoch() == len(founders)


def test_admit_rejects_the_zero_address(membership, timelock, founders):
    with boa.reverts("Membership: zero address"):
        membership.admit(ZERO_ADDRESS, "Nobody", sender=timelock)
    assert membership.member_count() == len(founders)


def test_admit_rejects_an_empty_name(membership, timelock, newcomer):
    with boa.reverts("Membership: empty name"):
        membership.admit(newcomer, "", sender=timelock)
    assert not membership.is_member(newcomer)


def test_admit_rejects_a_current_member(membership, timelock, founders):
    with boa.reverts("Membership: already a member"):
        membership.admit(founders[1], "Renamed", sender=timelock)
    assert membership.members(founders[1]).name == FOUNDER_NAMES[1]
    assert membership.member_count() == len(founders)
    assert membership.epoch() == len(founders)


# ------------------------------------------------------------------ remove


def test_timelock_removes_a_member_and_records_the_left_epoch(membership, timelock, founders):
    membership.remove(founders[0], sender=timelock)

    assert events(membership, "MemberRemoved") == [{"member": founders[0], "epoch": 4}]
    assert not membership.is_member(founders[0])
    assert membership.member_count() == len(founders) - 1
    assert membership.epoch() == 4
    assert membership.member_count_at(4) == 2
    # the record is kept, with the epoch the member left; the index stays its own
    assert membership.members(founders[0]) == (FOUNDER_NAMES[0], 1, (1, 4))
    # eligible at snapshots 1..3, not at 0 (before it joined) nor 4 and later
    assert [membership.was_member_at(founders[0], s) for s in range(6)] == [
        False,
        True,
        True,
        True,
        False,
        False,
    ]


@pytest.mark.parametrize("caller", ["member", "stranger", "removed-member-itself"])
def test_only_the_timelock_can_remove(membership, founders, stranger, caller):
    sender = {"member": founders[1], "stranger": stranger, "removed-member-itself": founders[0]}
    with boa.reverts("Membership: only the timelock"):
        membership.remove(founders[0], sender=sender[caller])
    assert membership.is_member(founders[0])
    assert membership.member_count() == len(founders)


def test_remove_rejects_an_account_that_never_was_a_member(membership, timelock, stranger):
    with boa.reverts("Membership: not a member"):
        membership.remove(stranger, sender=timelock)
    assert membership.epoch() == 3


def test_remove_rejects_a_member_already_removed(membership, timelock, founders):
    membership.remove(founders[2], sender=timelock)
    with boa.reverts("Membership: not a member"):
        membership.remove(founders[2], sender=timelock)
    assert membership.members(founders[2]).current == (3, 4)
    assert membership.member_count() == len(founders) - 1
    assert membership.epoch() == 4


def test_the_last_member_can_be_removed(membership, timelock, founders):
    for account in founders:
        membership.remove(account, sender=timelock)
    assert membership.member_count() == 0
    assert membership.member_count_at(6) == 0
    assert not any(membership.is_member(account) for account in founders)


# ------------------------------------------------------------------ re-admission


def test_a_removed_member_readmitted_keeps_its_index_and_past_period(
    membership, timelock, founders
):
    membership.remove(founders[0], sender=timelock)  # epoch 4
    membership.admit(founders[0], "Alpha Telecom (new entity)", sender=timelock)  # epoch 5

    assert events(membership, "MemberAdmitted") == [
        {"member": founders[0], "name": "Alpha Telecom (new entity)", "index": 1, "epoch": 5}
    ]
    assert membership.is_member(founders[0])
    assert membership.member_count() == len(founders)
    assert membership.last_index() == len(founders)  # no new index handed out
    assert membership.members(founders[0]) == ("Alpha Telecom (new entity)", 1, (5, 0))
    assert past_periods(membership, founders[0]) == [(1, 4)]
    # eligible in both periods, not in the gap
    assert [membership.was_member_at(founders[0], s) for s in range(7)] == [
        False,
        True,
        True,
        True,
        False,
        True,
        True,
    ]


def test_eligibility_across_several_periods(membership, timelock, founders):
    a = founders[1]
    membership.remove(a, sender=timelock)  # 4
    membership.admit(a, "B2", sender=timelock)  # 5
    membership.remove(a, sender=timelock)  # 6
    membership.remove(founders[2], sender=timelock)  # 7
    membership.admit(a, "B3", sender=timelock)  # 8

    assert past_periods(membership, a) == [(2, 4), (5, 6)]
    assert membership.members(a).current == (8, 0)
    eligible = {2, 3, 5, 8, 9}
    assert [membership.was_member_at(a, s) for s in range(10)] == [s in eligible for s in range(10)]
    assert [membership.member_count_at(e) for e in range(1, 9)] == [1, 2, 3, 2, 3, 2, 1, 2]


def test_readmissions_are_bounded(membership, timelock, founders):
    a = founders[0]
    for _ in range(MAX_PAST_PERIODS):
        membership.remove(a, sender=timelock)
        membership.admit(a, "Alpha again", sender=timelock)
    assert len(past_periods(membership, a)) == MAX_PAST_PERIODS
    membership.remove(a, sender=timelock)
    with boa.reverts("Membership: too many re-admissions"):
        membership.admit(a, "Alpha again", sender=timelock)
    assert not membership.is_member(a)


# ------------------------------------------------------------------ what the Governor asks


def test_voter_at_returns_the_index_of_an_eligible_member(membership, timelock, founders):
    membership.remove(founders[1], sender=timelock)  # epoch 4
    assert membership.voter_at(founders[2], 3) == 3
    assert membership.voter_at(founders[1], 3) == 2  # removed after snapshot 3
    with boa.reverts("Membership: not a member at the snapshot"):
        membership.voter_at(founders[1], 4)


def test_voter_at_refuses_a_member_admitted_after_the_snapshot(membership, timelock, newcomer):
    membership.admit(newcomer, "Delta Telecom", sender=timelock)  # epoch 4
    assert membership.voter_at(newcomer, 4) == 4
    with boa.reverts("Membership: not a member at the snapshot"):
        membership.voter_at(newcomer, 3)


def test_voter_at_refuses_a_stranger(membership, stranger):
    with boa.reverts("Membership: not a member at the snapshot"):
        membership.voter_at(stranger, 3)


def test_snapshot_for_a_member_is_the_epoch_and_member_count(membership, timelock, founders):
    assert membership.snapshot_for(founders[0]) == (3, 3)
    membership.remove(founders[2], sender=timelock)
    assert membership.snapshot_for(founders[0]) == (4, 2)


def test_snapshot_for_refuses_a_non_member_proposer(membership, timelock, founders, stranger):
    with boa.reverts("Membership: proposer is not a member"):
        membership.snapshot_for(stranger)
    membership.remove(founders[2], sender=timelock)
    with boa.reverts("Membership: proposer is not a member"):
        membership.snapshot_for(founders[2])
