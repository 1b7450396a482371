"""A reference model of Settlement's multilateral netting, in plain Python.

An invoice (seller, buyer, amount due) means the buyer owes the seller the amount. A
member's net position is what it is owed less what it owes: positive for a net creditor,
negative for a net debtor; positions sum to zero. A payment set clears the positions when
every payment goes from a net debtor to a net creditor and, after all of them, every
position is zero; Settlement also wants at most (participating members - 1) payments.

`greedy_payments` builds such a set: it repeatedly matches the largest remaining debtor
with the largest remaining creditor for the smaller of the two amounts. Each payment
zeroes at least one of them and the last one zeroes both, so there are at most
(members with a non-zero position - 1) payments.

`refusal` gives the reason Settlement must refuse a proposed set with, in the order the
contract checks, or None for a valid set.
"""

from __future__ import annotations

from collections.abc import Iterable

Invoice = tuple[str, str, int]  # seller, buyer, amount due
Payment = tuple[str, str, int]  # payer, payee, amount


def participants(invoices: Iterable[Invoice]) -> list[str]:
    """The cycle's members in the order the contract meets them: each invoice's seller,
    then its buyer."""
    members: list[str] = []
    for seller, buyer, _ in invoices:
        for member in (seller, buyer):
            if member not in members:
                members.append(member)
    return members


def positions(invoices: Iterable[Invoice]) -> dict[str, int]:
    """Net position of each participant (what it is owed less what it owes)."""
    invoices = list(invoices)
    net = dict.fromkeys(participants(invoices), 0)
    for seller, buyer, amount in invoices:
        net[seller] += amount
        net[buyer] -= amount
    return net


def as_seller_and_buyer(invoices: Iterable[Invoice]) -> dict[str, tuple[int, int]]:
    """Per participant: the amounts due to it as seller and by it as buyer."""
    invoices = list(invoices)
    totals = {member: [0, 0] for member in participants(invoices)}
    for seller, buyer, amount in invoices:
        totals[seller][0] += amount
        totals[buyer][1] += amount
    return {member: (sold, bought) for member, (sold, bought) in totals.items()}


def greedy_payments(net: dict[str, int]) -> list[Payment]:
    """A payment set that clears `net`: largest debtor pays largest creditor, repeatedly.
    Ties are broken by the members' order in `net`, so the set is deterministic."""
    order = {member: i for i, member in enumerate(net)}
    debts = {m: -v for m, v in net.items() if v < 0}
    credits = {m: v for m, v in net.items() if v > 0}
    payments: list[Payment] = []
    while debts and credits:
        payer = max(debts, key=lambda m: (debts[m], -order[m]))
        payee = max(credits, key=lambda m: (credits[m], -order[m]))
        amount = min(debts[payer], credits[payee])
        payments.append((payer, payee, amount))
        debts[payer] -= amount
        credits[payee] -= amount
        if debts[payer] == 0:
            del debts[payer]
        if credits[payee] == 0:
            del credits[payee]
    assert not debts and not credits, "positions must sum to zero"
    return payments


def refusal(net: dict[str, int], payments: list[Payment]) -> str | None:
    """The reason (without the "Settlement: " prefix) Settlement refuses `payments` for
    the positions `net` with, checking as the contract does; None when they clear it."""
    if len(payments) >= len(net):
        return "more payments than members - 1"
    remaining = dict(net)
    for payer, payee, amount in payments:
        if amount == 0:
            return "zero payment"
        if payer not in net or payee not in net:
            return "payment party not in the cycle"
        if net[payer] >= 0:
            return "payer is not a net debtor"
        if net[payee] <= 0:
            return "payee is not a net creditor"
        remaining[payer] += amount
        remaining[payee] -= amount
    if any(remaining.values()):
        return "payments do not clear the positions"
    return None
