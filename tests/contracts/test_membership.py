"""Membership: founders at deployment, admission and removal by the timelock only."""

import boa
import pytest

from .conftest import FOUNDER_NAMES
from .helpers import ZERO_ADDRESS, events


def block_number():
    return boa.env.evm.patch.block_number


# ------------------------------------------------------------------ constructor


def test_constructor_admits_every_founder_with_name_and_joined_block(membership, founders):
    assert membership.member_count() == len(founders)
    for account, name in zip(founders, FOUNDER_NAMES, strict=True):
        assert membership.is_member(account)
        assert membership.members(account) == (name, block_number(), 0)


def test_constructor_sets_the_timelock(membership, timelock):
    assert membership.timelock() == timelock


def test_constructor_logs_member_admitted_for_each_founder(membership_contract, timelock, founders):
    membership = membership_contract.deploy(timelock, founders, FOUNDER_NAMES)
    assert events(membership, "MemberAdmitted") == [
        {"member": account, "name": name, "joined_block": block_number()}
        for account, name in zip(founders, FOUNDER_NAMES, strict=True)
    ]


def test_strangers_and_timelock_are_not_members(membership, stranger, timelock):
    assert not membership.is_member(stranger)
    assert not membership.is_member(timelock)
    assert membership.members(stranger) == ("", 0, 0)


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


def test_timelock_admits_a_member(membership, timelock, newcomer, founders):
    boa.env.time_travel(blocks=5)
    membership.admit(newcomer, "Delta Telecom", sender=timelock)

    assert events(membership, "MemberAdmitted") == [
        {"member": newcomer, "name": "Delta Telecom", "joined_block": block_number()}
    ]
    assert membership.is_member(newcomer)
    assert membership.member_count() == len(founders) + 1
    assert membership.members(newcomer) == ("Delta Telecom", block_number(), 0)


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


# ------------------------------------------------------------------ remove


def test_timelock_removes_a_member_and_records_left_block(membership, timelock, founders):
    joined = block_number()
    boa.env.time_travel(blocks=7)
    membership.remove(founders[0], sender=timelock)

    assert events(membership, "MemberRemoved") == [
        {"member": founders[0], "left_block": block_number()}
    ]
    assert block_number() == joined + 7
    assert not membership.is_member(founders[0])
    assert membership.member_count() == len(founders) - 1
    # the record is kept, with when the member left
    assert membership.members(founders[0]) == (FOUNDER_NAMES[0], joined, joined + 7)


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


def test_remove_rejects_a_member_already_removed(membership, timelock, founders):
    membership.remove(founders[2], sender=timelock)
    left = membership.members(founders[2]).left_block
    boa.env.time_travel(blocks=1)
    with boa.reverts("Membership: not a member"):
        membership.remove(founders[2], sender=timelock)
    assert membership.members(founders[2]).left_block == left
    assert membership.member_count() == len(founders) - 1


def test_the_last_member_can_be_removed(membership, timelock, founders):
    for account in founders:
        membership.remove(account, sender=timelock)
    assert membership.member_count() == 0
    assert not any(membership.is_member(account) for account in founders)


# ------------------------------------------------------------------ re-admission


def test_a_removed_member_can_be_admitted_again_with_a_fresh_record(membership, timelock, founders):
    membership.remove(founders[0], sender=timelock)
    boa.env.time_travel(blocks=3)
    membership.admit(founders[0], "Alpha Telecom (new entity)", sender=timelock)

    assert events(membership, "MemberAdmitted") == [
        {
            "member": founders[0],
            "name": "Alpha Telecom (new entity)",
            "joined_block": block_number(),
        }
    ]
    assert membership.is_member(founders[0])
    assert membership.member_count() == len(founders)
    assert membership.members(founders[0]) == ("Alpha Telecom (new entity)", block_number(), 0)
