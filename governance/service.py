"""The DAO from Python: build each kind's actions, propose, vote (with a custodial key or a
member's own EIP-712 signature), queue, execute, cancel, and read state and tallies.

Every write is a transaction signed by the acting member's key (or relayed, for a signed
ballot); the contracts decide. Nothing here keeps state: the proposal payload needed to
queue, execute or cancel comes from the caller (the platform keeps it in its read model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract

from deployments.chain import ChainGateway, ChainRevert, Receipt, events_in
from deployments.compiler import Compiler
from deployments.deploy import contract
from deployments.records import Deployment
from governance.rules import Kind, ProposalState, Rules, Support

EIP712_NAME = "CarrierCoop Governor"
EIP712_VERSION = "1"
BALLOT_TYPES = [
    {"name": "proposalId", "type": "bytes32"},
    {"name": "support", "type": "uint8"},
    {"name": "voter", "type": "address"},
    {"name": "nonce", "type": "uint256"},
]
PPM = 1_000_000
FLAG_EXTENDED = 8  # the Governor's flag for a late-quorum extension
MAX_CREDIT_BPS = 10_000


class GovernanceError(Exception):
    """A request the contracts would refuse, caught before sending; `field` names the input."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Actions:
    """What a proposal makes the Timelock call, in order."""

    targets: list[str]
    values: list[int]
    calldatas: list[bytes]

    def as_args(self) -> tuple[list[str], list[int], list[bytes]]:
        return self.targets, self.values, self.calldatas


@dataclass(frozen=True)
class ProposalPayload:
    """Everything that identifies a proposal on chain (its id is the hash of it)."""

    proposer: str
    actions: Actions
    description: str

    @property
    def description_hash(self) -> bytes:
        return keccak(text=self.description)


@dataclass(frozen=True)
class Tier:
    floor_ppm: int  # availability below this ...
    credit_bps: int  # ... earns this share of the MRC


@dataclass(frozen=True)
class SlaTemplateSpec:
    """An SLA template as the SlaTemplates contract takes it."""

    name: str
    document: bytes  # 32-byte salted commitment of the full template document
    objective_ppm: int
    tiers: list[Tier]
    resolution_window: int = 5 * 86_400
    exclude_planned_maintenance: bool = True
    metric: int = 0  # availability
    measurement_period: int = 0  # calendar month

    def as_args(self) -> tuple[Any, ...]:
        return (
            self.name,
            self.document,
            self.metric,
            self.objective_ppm,
            self.measurement_period,
            [(t.floor_ppm, t.credit_bps) for t in self.tiers],
            self.resolution_window,
            self.exclude_planned_maintenance,
        )


@dataclass(frozen=True)
class Tally:
    for_votes: int
    against_votes: int
    abstain_votes: int
    eligible: int
    quorum_votes: int
    vote_start: int
    vote_end: int
    eta: int
    extended: bool


@dataclass
class Governance:
    """The governance contracts of one deployment."""

    gateway: ChainGateway
    compiler: Compiler
    deployment: Deployment
    _handles: dict[str, Contract] = field(default_factory=dict)

    def handle(self, name: str) -> Contract:
        if name not in self._handles:
            self._handles[name] = contract(self.gateway, self.compiler, self.deployment, name)
        return self._handles[name]

    @property
    def governor(self) -> Contract:
        return self.handle("Governor")

    # ------------------------------------------------------------------ actions per kind

    def admit_member(self, address: str, name: str) -> Actions:
        if not name.strip() or len(name) > 64:
            raise GovernanceError("a member's name has 1 to 64 characters", field="name")
        membership = self.handle("Membership")
        if membership.functions.is_member(_checksum(address)).call():
            raise GovernanceError(f"{address} is already a member", field="address")
        return self._one(membership, "admit", _checksum(address), name.strip())

    def remove_member(self, address: str) -> Actions:
        membership = self.handle("Membership")
        if not membership.functions.is_member(_checksum(address)).call():
            raise GovernanceError(f"{address} is not a member", field="address")
        return self._one(membership, "remove", _checksum(address))

    def adopt_sla_template(self, spec: SlaTemplateSpec) -> Actions:
        """Checked by the contract's own `validate` first: a malformed template is refused
        at proposal time with the same reason adoption would give."""
        templates = self.handle("SlaTemplates")
        try:
            self.gateway.call(templates.functions.validate(*spec.as_args()))
        except ChainRevert as exc:
            raise GovernanceError(
                exc.reason.removeprefix("SlaTemplates: "), field="template"
            ) from exc
        return self._one(templates, "adopt", *spec.as_args())

    def retire_sla_template(self, template_id: int) -> Actions:
        templates = self.handle("SlaTemplates")
        if not templates.functions.is_adopted(template_id).call():
            raise GovernanceError(f"SLA template {template_id} is not in force", field="templateId")
        return self._one(templates, "retire", template_id)

    def upgrade_module(self, module: str, implementation: str, version: int) -> Actions:
        """Point the module's beacon at `implementation` and record it in the registry:
        two calls of one proposal, so they happen together or not at all."""
        registry = self.handle("ModuleRegistry")
        proxy, beacon, current, current_version, _ = registry.functions.modules(module).call()
        if int(proxy, 16) == 0:
            raise GovernanceError(f"no module named {module}", field="module")
        if _checksum(implementation) == current:
            raise GovernanceError(f"{module} already runs {implementation}", field="implementation")
        if version <= current_version:
            raise GovernanceError(
                f"version must be above the current {current_version}", field="version"
            )
        if not self.gateway.has_code(implementation):
            raise GovernanceError(f"no contract at {implementation}", field="implementation")
        beacon_contract = self.gateway.contract(
            beacon, self.compiler.openzeppelin("UpgradeableBeacon").abi
        )
        first = self._one(beacon_contract, "upgradeTo", _checksum(implementation))
        second = self._one(registry, "record_upgrade", module, version)
        return Actions(first.targets + second.targets, [0, 0], first.calldatas + second.calldatas)

    def change_rules(self, kind: Kind, rules: Rules) -> Actions:
        return self._one(self.governor, "set_rules", int(kind), rules.as_tuple())

    def _one(self, target: Contract, function: str, *args: Any) -> Actions:
        data = getattr(target.functions, function)(*args)._encode_transaction_data()
        return Actions([target.address], [0], [bytes.fromhex(data.removeprefix("0x"))])

    # ------------------------------------------------------------------ lifecycle

    def propose(
        self, proposer: LocalAccount, kind: Kind, actions: Actions, description: str
    ) -> tuple[str, Receipt]:
        fn = self.governor.functions.propose(int(kind), *actions.as_args(), description)
        receipt = self.gateway.transact(proposer, fn)
        created = events_in(receipt, self.governor.events.ProposalCreated)[0]
        return "0x" + bytes(created["proposal_id"]).hex(), receipt

    def cast_vote(
        self, voter: LocalAccount, proposal_id: str, support: Support, reason: str = ""
    ) -> Receipt:
        pid = _bytes32(proposal_id)
        if reason:
            return self.gateway.transact(
                voter, self.governor.functions.castVoteWithReason(pid, int(support), reason)
            )
        return self.gateway.transact(voter, self.governor.functions.castVote(pid, int(support)))

    def ballot(self, proposal_id: str, support: Support, voter: str) -> dict[str, Any]:
        """The EIP-712 typed data a member signs (eth_signTypedData_v4) to vote with its own key."""
        nonce = self.governor.functions.nonces(_checksum(voter)).call()
        return {
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "Ballot": BALLOT_TYPES,
            },
            "primaryType": "Ballot",
            "domain": {
                "name": EIP712_NAME,
                "version": EIP712_VERSION,
                "chainId": self.gateway.chain_id,
                "verifyingContract": self.governor.address,
            },
            "message": {
                "proposalId": "0x" + _bytes32(proposal_id).hex(),
                "support": int(support),
                "voter": _checksum(voter),
                "nonce": nonce,
            },
        }

    @staticmethod
    def ballot_digest(typed_data: dict[str, Any]) -> bytes:
        signable = encode_typed_data(full_message=typed_data)
        return keccak(b"\x19" + signable.version + signable.header + signable.body)

    def cast_vote_by_sig(
        self,
        relayer: LocalAccount,
        proposal_id: str,
        support: Support,
        voter: str,
        signature: bytes,
    ) -> Receipt:
        if len(signature) != 65:
            raise GovernanceError("a signature is 65 bytes (r, s, v)", field="signature")
        fn = self.governor.functions.castVoteBySig(
            _bytes32(proposal_id), int(support), _checksum(voter), signature
        )
        return self.gateway.transact(relayer, fn)

    def queue(self, sender: LocalAccount, payload: ProposalPayload) -> Receipt:
        return self.gateway.transact(
            sender, self.governor.functions.queue(*self._identity(payload))
        )

    def execute(self, sender: LocalAccount, payload: ProposalPayload) -> Receipt:
        return self.gateway.transact(
            sender, self.governor.functions.execute(*self._identity(payload))
        )

    def cancel(self, sender: LocalAccount, payload: ProposalPayload) -> Receipt:
        return self.gateway.transact(
            sender, self.governor.functions.cancel(*self._identity(payload))
        )

    @staticmethod
    def _identity(payload: ProposalPayload) -> tuple[Any, ...]:
        return (_checksum(payload.proposer), *payload.actions.as_args(), payload.description_hash)

    # ------------------------------------------------------------------ reading

    def state(self, proposal_id: str) -> ProposalState:
        return ProposalState(
            self.gateway.call(self.governor.functions.state(_bytes32(proposal_id)))
        )

    def tally(self, proposal_id: str) -> Tally:
        # the Governor's Proposal struct, in field order
        (
            start,
            end,
            _snapshot,
            eligible,
            for_v,
            against_v,
            abstain_v,
            quorum,
            _num,
            _den,
            _kind,
            flags,
            eta,
        ) = self.governor.functions.proposal(_bytes32(proposal_id)).call()
        return Tally(
            for_v,
            against_v,
            abstain_v,
            eligible,
            quorum,
            start,
            end,
            eta,
            bool(flags & FLAG_EXTENDED),
        )

    def rules(self, kind: Kind) -> Rules:
        return Rules.from_tuple(self.governor.functions.rules(int(kind)).call())


def _checksum(address: str) -> str:
    try:
        return Web3.to_checksum_address(address)
    except ValueError as exc:
        raise GovernanceError(f"{address!r} is not an address", field="address") from exc


def _bytes32(value: str | bytes) -> bytes:
    if isinstance(value, bytes):
        return value
    raw = bytes.fromhex(value.removeprefix("0x"))
    if len(raw) != 32:
        raise GovernanceError("a proposal id is 32 bytes, 0x-prefixed hex", field="proposalId")
    return raw


def tiers_from_percent(pairs: list[tuple[float, float]]) -> list[Tier]:
    """[(availability %, credit % of MRC)] -> tiers in ppm and basis points."""
    return [Tier(round(a * PPM / 100), round(c * MAX_CREDIT_BPS / 100)) for a, c in pairs]


@dataclass(frozen=True)
class TemplateView:
    id: int
    name: str
    version: int
    document: bytes
    metric: int
    objective_ppm: int
    measurement_period: int
    tiers: list[Tier]
    resolution_window: int
    exclude_planned_maintenance: bool
    adopted_at: int
    retired_at: int


@dataclass(frozen=True)
class ModuleView:
    name: str
    proxy: str
    beacon: str
    implementation: str
    version: int
    codehash: bytes


def sla_templates(governance: Governance) -> list[TemplateView]:
    """Every adopted template, in force or retired, oldest first."""
    handle = governance.handle("SlaTemplates")
    views = []
    for template_id in range(1, handle.functions.template_count().call() + 1):
        t = handle.functions.template(template_id).call()
        views.append(
            TemplateView(
                id=template_id,
                name=t[0],
                version=t[1],
                document=t[2],
                metric=t[3],
                objective_ppm=t[4],
                measurement_period=t[5],
                tiers=[Tier(floor, credit) for floor, credit in t[6]],
                resolution_window=t[7],
                exclude_planned_maintenance=t[8],
                adopted_at=t[9],
                retired_at=t[10],
            )
        )
    return views


def modules(governance: Governance) -> list[ModuleView]:
    """The ModuleRegistry's modules, in registration order."""
    registry = governance.handle("ModuleRegistry")
    views = []
    for index in range(registry.functions.module_count().call()):
        name = registry.functions.module_names(index).call()
        proxy, beacon, implementation, version, codehash = registry.functions.modules(name).call()
        views.append(ModuleView(name, proxy, beacon, implementation, version, codehash))
    return views
