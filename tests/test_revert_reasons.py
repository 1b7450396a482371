"""Every revert reason of the contracts has its error code (cooperative.transactions).

The contracts are read as source (no compiler, no node): each `assert cond, "reason"` and
each `raise "reason"`, however the statement is split over lines, with adjacent string
literals joined as Vyper joins them.
"""

from __future__ import annotations

import ast
import io
import logging
import tokenize
from pathlib import Path

import pytest

from cooperative import transactions
from cooperative.errors import CoopError, ErrorCode
from cooperative.transactions import REVERT_REASONS, chain_errors
from deployments.chain import ChainError, ChainRevert, InsufficientFunds
from governance.service import GovernanceError

CONTRACTS = Path(__file__).resolve().parent.parent / "contracts"

# Tokens that are only layout (a line break inside brackets is NL, not NEWLINE).
_LAYOUT = {tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT}
_OPENING, _CLOSING = "([{", ")]}"


def revert_reasons(source: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The (line, reason) of each assert and raise in Vyper `source`, and the (line,
    statement) of each one whose reason is not a string literal (or that has none)."""
    tokens = [
        t for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type not in _LAYOUT
    ]
    reasons: list[tuple[int, str]] = []
    unreadable: list[tuple[int, str]] = []
    for i, token in enumerate(tokens):
        if token.type != tokenize.NAME or token.string not in ("assert", "raise"):
            continue
        # The statement runs to its NEWLINE (a line break inside brackets is only NL).
        end = i + 1
        while tokens[end].type not in (tokenize.NEWLINE, tokenize.ENDMARKER):
            end += 1
        statement = tokens[i + 1 : end]
        if token.string == "assert":
            depth, comma = 0, None
            for j, t in enumerate(statement):
                if t.type == tokenize.OP and t.string in _OPENING:
                    depth += 1
                elif t.type == tokenize.OP and t.string in _CLOSING:
                    depth -= 1
                elif t.type == tokenize.OP and t.string == "," and depth == 0:
                    comma = j
                    break
            message = [] if comma is None else statement[comma + 1 :]
        else:
            message = statement
        literals = [t for t in message if t.type == tokenize.STRING]
        others = [
            t for t in message if not (t.type == tokenize.OP and t.string in _OPENING + _CLOSING)
        ]
        if not literals or len(others) != len(literals):
            text = " ".join(t.string for t in [token, *statement])
            if "UNREACHABLE" not in text.split():  # (an invalid opcode, on purpose)
                unreadable.append((token.start[0], text))
            continue
        reasons.append((token.start[0], "".join(ast.literal_eval(t.string) for t in literals)))
    return reasons, unreadable


def contract_reasons() -> tuple[dict[str, list[str]], list[str]]:
    """Every reason in contracts/ with where it is given, and the unreadable statements."""
    found: dict[str, list[str]] = {}
    unreadable: list[str] = []
    for path in sorted(CONTRACTS.rglob("*.vy")):
        reasons, bad = revert_reasons(path.read_text())
        where = path.relative_to(CONTRACTS.parent)
        for line, reason in reasons:
            found.setdefault(reason, []).append(f"{where}:{line}")
        unreadable += [f"{where}:{line}: {text}" for line, text in bad]
    return found, unreadable


def test_the_reader_takes_every_form_of_the_statement() -> None:
    source = '''
"""A docstring mentioning assert x, "not a reason"."""
# assert x, "nor this"

@external
def f(x: uint256, s: String[8]):
    assert x > 0, "M: one line"
    assert (
        x > 1
        and x < 9
    ), "M: condition on lines"
    assert x != 2, (
        "M: reason on the next line"
    )
    assert x != 3, "M: joined " "from two " \\
        "literals"
    assert convert(slice(s, 0, 1), bytes1) != 0x00, "M: a comma, inside (the condition)"
    if x == 4:
        raise "M: raised"
    assert x != 5  # no reason at all
    assert x != 6, UNREACHABLE
    assert x != 7, s
'''
    reasons, unreadable = revert_reasons(source)
    assert [reason for _, reason in reasons] == [
        "M: one line",
        "M: condition on lines",
        "M: reason on the next line",
        "M: joined from two literals",
        "M: a comma, inside (the condition)",
        "M: raised",
    ]
    assert [line for line, _ in reasons] == [7, 8, 12, 15, 17, 19]
    assert [line for line, _ in unreadable] == [20, 22]


def test_the_contracts_give_reasons_to_read() -> None:
    found, unreadable = contract_reasons()
    assert not unreadable, "asserts without a string reason:\n" + "\n".join(unreadable)
    assert len(found) > 200  # the reader found the contracts' reasons at all
    assert all(": " in reason for reason in found)


def test_the_reader_agrees_with_the_vyper_parser() -> None:
    vyper_ast = pytest.importorskip("vyper.ast")
    nodes = pytest.importorskip("vyper.ast.nodes")
    for path in sorted(CONTRACTS.rglob("*.vy")):
        tree = vyper_ast.parse_to_ast(path.read_text(), source_id=0)
        parsed = []
        for node in tree.get_descendants((nodes.Assert, nodes.Raise)):
            message = node.msg if isinstance(node, nodes.Assert) else node.exc
            if isinstance(message, nodes.Str):
                parsed.append((node.lineno, message.value))
        read, _ = revert_reasons(path.read_text())
        assert sorted(read) == sorted(parsed), path


def test_every_reason_of_the_contracts_has_a_code_and_every_code_a_reason() -> None:
    found, _ = contract_reasons()
    missing = sorted(set(found) - set(REVERT_REASONS))
    stale = sorted(set(REVERT_REASONS) - set(found))
    problems = [f"no code for {r!r} ({', '.join(found[r])})" for r in missing]
    problems += [f"no contract gives {r!r} any more: remove its entry" for r in stale]
    assert not problems, (
        "cooperative/transactions.py REVERT_REASONS does not match contracts/:\n"
        + "\n".join(problems)
    )


def test_few_reasons_are_left_to_chain_revert() -> None:
    # An internal invariant only, each with its reason in a comment in the table.
    left = [r for r, code in REVERT_REASONS.items() if code is ErrorCode.CHAIN_REVERT]
    assert len(left) <= 20, left
    table = (Path(__file__).resolve().parent.parent / "cooperative/transactions.py").read_text()
    for reason in left:
        (line,) = [line for line in table.splitlines() if line.strip().startswith(f'"{reason}"')]
        assert "# invariant: " in line, reason


def refused(reason: str) -> tuple[ErrorCode, str]:
    with pytest.raises(CoopError) as caught, chain_errors():
        raise ChainRevert(reason)
    return caught.value.code, caught.value.message


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("Assurance: the period is already closed", ErrorCode.INVALID_STATE),
        ("Assurance: an earlier period is not closed", ErrorCode.INVALID_STATE),
        ("Assurance: the outage starts before the service", ErrorCode.VALIDATION),
        ("Governor: bad signature", ErrorCode.VALIDATION),
        ("Governor: signature is not the voter's", ErrorCode.VALIDATION),
        ("Governor: unknown proposal", ErrorCode.NOT_FOUND),
        ("Assurance: no such ticket", ErrorCode.NOT_FOUND),
        ("Ordering: not your order", ErrorCode.FORBIDDEN),
        ("Settlement: not a party to this payment", ErrorCode.FORBIDDEN),
        ("Ordering: the quote expired", ErrorCode.INVALID_STATE),
        ("Billing: service not active during the period", ErrorCode.VALIDATION),
        ("Timelock: operation already scheduled", ErrorCode.CHAIN_REVERT),
    ],
)
def test_a_contract_reason_becomes_its_code(reason: str, code: ErrorCode) -> None:
    assert refused(reason) == (code, f"refused by the contract: {reason}")


def test_matching_is_by_the_whole_reason() -> None:
    # A node message with its prefix is the same reason; a part of a reason is none.
    assert refused("execution reverted: Ordering: not your order")[0] is ErrorCode.FORBIDDEN
    assert refused("Ordering: not your order (v2)")[0] is ErrorCode.CHAIN_REVERT
    assert refused("not your order")[0] is ErrorCode.CHAIN_REVERT


def test_an_unknown_reason_is_chain_revert_logged_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transactions, "_warned", set())
    reason = "Ordering: a reason of a later contract version"
    with caplog.at_level(logging.WARNING, logger="cooperative.transactions"):
        for _ in range(3):
            assert refused(reason) == (
                ErrorCode.CHAIN_REVERT,
                f"the transaction reverted: {reason}",
            )
        refused("reverted without a reason")
    warnings = [r for r in caplog.records if r.name == "cooperative.transactions"]
    assert len(warnings) == 1 and reason in warnings[0].getMessage()


def test_the_other_chain_errors_keep_their_codes() -> None:
    with pytest.raises(CoopError) as caught, chain_errors():
        raise GovernanceError("a signature is 65 bytes (r, s, v)", field="signature")
    assert caught.value.code is ErrorCode.VALIDATION
    assert caught.value.field == "signature"

    with pytest.raises(CoopError) as caught, chain_errors():
        raise InsufficientFunds("the sender cannot pay for gas")
    assert caught.value.code is ErrorCode.INVALID_STATE

    with pytest.raises(CoopError) as caught, chain_errors():
        raise ChainError("the node timed out")
    assert caught.value.code is ErrorCode.UNAVAILABLE
    assert "retry shortly" in str(caught.value)
