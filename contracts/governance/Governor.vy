# pragma version 0.4.3
"""
@title Governor
@custom:contract-name Governor
@license Apache-2.0
@notice The cooperative's decisions: one member, one vote. A member proposes; the
        members eligible at the proposal's snapshot vote For, Against or Abstain; a
        proposal that reaches its kind's quorum and approval is queued in the Timelock
        and executed after the kind's delay.
@dev Proposal kinds and their rules (quorum and approval as fractions of small
     integers, voting delay and period, timelock delay, late-quorum extension) are kept
     per kind; changing them is itself a CHANGE_RULES proposal. A kind also limits what
     its proposals may call, so nobody gets a lower quorum by mislabelling an upgrade as
     an admission: only CHANGE_RULES may call anything.

     A proposal is counted by the rules in force when it was created: its quorum (as a
     number of votes) and approval fraction are fixed in the proposal then, so a later
     rule change never moves the goalposts of a running vote. The timelock delay and the
     late-quorum extension are read when they apply.

     Gas. A proposal is ONE storage word (times, snapshot, eligible count, tallies,
     quorum, approval fraction, kind, flags and eta packed), and a member's vote is one
     bit in a per-proposal bitmap indexed by the member's permanent index. Its actions are
     not stored: the proposal id is keccak256(proposer, actions_hash, description_hash),
     so queue, execute and cancel take the actions again and the id proves them. The
     full payload is emitted in ProposalCreated for the indexer. Arrays are never passed
     to internal functions (each call would copy them into fresh memory) and their
     bounds are small, because Vyper reserves memory for the largest possible value and
     memory costs gas quadratically.

     Proposal ids bind the proposer, so a proposal cannot be front-run by copying it.
"""

from interfaces import IMembership
from interfaces import ITimelock

# ------------------------------------------------------------------ kinds, states, votes

ADMIT_MEMBER: constant(uint256) = 0
REMOVE_MEMBER: constant(uint256) = 1
ADOPT_SLA_TEMPLATE: constant(uint256) = 2
RETIRE_SLA_TEMPLATE: constant(uint256) = 3
UPGRADE_MODULE: constant(uint256) = 4
CHANGE_RULES: constant(uint256) = 5
KIND_COUNT: constant(uint256) = 6

PENDING: constant(uint256) = 0
ACTIVE: constant(uint256) = 1
CANCELED: constant(uint256) = 2
DEFEATED: constant(uint256) = 3
SUCCEEDED: constant(uint256) = 4
QUEUED: constant(uint256) = 5
EXPIRED: constant(uint256) = 6
EXECUTED: constant(uint256) = 7

# @dev Vote values, in OpenZeppelin's order so tools that know it read ours alike.
VOTE_AGAINST: constant(uint8) = 0
VOTE_FOR: constant(uint8) = 1
VOTE_ABSTAIN: constant(uint8) = 2

# @dev Flags in a proposal's word.
FLAG_CANCELED: constant(uint256) = 1
FLAG_QUEUED: constant(uint256) = 2
FLAG_EXECUTED: constant(uint256) = 4
FLAG_EXTENDED: constant(uint256) = 8
FLAG_APPROVAL_INCLUSIVE: constant(uint256) = 16

# @dev Must equal the Timelock's bounds (the actions pass through unchanged). 1 KiB holds
#      an SLA template with 8 tiers; 8 calls hold a rule change of several kinds.
MAX_ACTIONS: constant(uint256) = 8
MAX_CALLDATA: constant(uint256) = 1024
MAX_DESCRIPTION: constant(uint256) = 2048
MAX_REASON: constant(uint256) = 1024
# @dev Matches the Timelock: a queued proposal not executed within it expires.
GRACE_PERIOD: constant(uint256) = 14 * 86400
# @dev Votes are counted in 16 bits of the proposal word.
MAX_ELIGIBLE: constant(uint256) = 65_535
MASK_8: constant(uint256) = 2**8 - 1
MASK_16: constant(uint256) = 2**16 - 1
MASK_24: constant(uint256) = 2**24 - 1
MASK_32: constant(uint256) = 2**32 - 1
MASK_40: constant(uint256) = 2**40 - 1

# @dev secp256k1n / 2: higher `s` values are the malleable twins of valid signatures.
HALF_CURVE_ORDER: constant(uint256) = 57896044618658097711785492504343953926418782139537452191302581570759080747168

EIP712_DOMAIN_TYPEHASH: constant(bytes32) = keccak256(
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
BALLOT_TYPEHASH: constant(bytes32) = keccak256("Ballot(bytes32 proposalId,uint8 support,address voter,uint256 nonce)")
EIP712_NAME: constant(String[32]) = "CarrierCoop Governor"
EIP712_VERSION: constant(String[8]) = "1"

# @dev The calls each kind may make (UPGRADE_MODULE: any beacon's upgradeTo, and the registry).
ADMIT_SELECTOR: constant(bytes4) = method_id("admit(address,string)", output_type=bytes4)
REMOVE_SELECTOR: constant(bytes4) = method_id("remove(address)", output_type=bytes4)
ADOPT_SELECTOR: constant(bytes4) = method_id(
    "adopt(string,bytes32,uint8,uint256,uint8,(uint256,uint256)[],uint256,bool)", output_type=bytes4
)
RETIRE_SELECTOR: constant(bytes4) = method_id("retire(uint256)", output_type=bytes4)
UPGRADE_TO_SELECTOR: constant(bytes4) = method_id("upgradeTo(address)", output_type=bytes4)
RECORD_UPGRADE_SELECTOR: constant(bytes4) = method_id("record_upgrade(string,uint256)", output_type=bytes4)
REGISTER_SELECTOR: constant(bytes4) = method_id("register(string,address,address,uint256)", output_type=bytes4)


struct Rules:
    quorum_numerator: uint256  # participation (for + against + abstain) >= quorum of eligible
    quorum_denominator: uint256
    approval_numerator: uint256  # for vs. for + against
    approval_denominator: uint256
    approval_inclusive: bool  # True: at least the fraction (2/3); False: more than it (> 1/2)
    voting_delay: uint256  # seconds from proposal to the start of voting
    voting_period: uint256  # seconds of voting
    timelock_delay: uint256  # seconds from queueing to execution
    late_quorum_extension: uint256  # voting lasts at least this long after quorum is first reached


struct Proposal:
    vote_start: uint256
    vote_end: uint256
    snapshot: uint256  # the member register's epoch at creation
    eligible: uint256  # members at the snapshot
    for_votes: uint256
    against_votes: uint256
    abstain_votes: uint256
    quorum_votes: uint256  # participation needed, from the rules at creation
    approval_numerator: uint256  # approval fraction, from the rules at creation
    approval_denominator: uint256
    kind: uint256
    flags: uint256  # canceled 1, queued 2, executed 4, extended 8, approval inclusive 16
    eta: uint256  # when queued: earliest execution time


# ------------------------------------------------------------------ events

event ProposalCreated:
    proposal_id: indexed(bytes32)
    proposer: indexed(address)
    kind: uint256
    targets: DynArray[address, MAX_ACTIONS]
    values: DynArray[uint256, MAX_ACTIONS]
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_ACTIONS]
    description: String[MAX_DESCRIPTION]
    snapshot: uint256
    eligible: uint256
    vote_start: uint256
    vote_end: uint256


event VoteCast:
    voter: indexed(address)
    proposal_id: indexed(bytes32)
    support: uint8
    reason: String[MAX_REASON]


event VotingExtended:
    proposal_id: indexed(bytes32)
    vote_end: uint256


event ProposalQueued:
    proposal_id: indexed(bytes32)
    eta: uint256


event ProposalExecuted:
    proposal_id: indexed(bytes32)


event ProposalCanceled:
    proposal_id: indexed(bytes32)
    by: indexed(address)


event RulesChanged:
    kind: indexed(uint256)
    rules: Rules


event GuardianChanged:
    old_guardian: indexed(address)
    new_guardian: indexed(address)


# ------------------------------------------------------------------ storage

membership: public(immutable(address))
timelock: public(immutable(address))
sla_templates: public(immutable(address))
module_registry: public(immutable(address))
# @notice May cancel any proposal before execution (an emergency brake); empty = none.
guardian: public(address)

packed_rules: HashMap[uint256, uint256]
# @dev proposal id -> packed Proposal (see _pack)
packed_proposals: HashMap[bytes32, uint256]
# @dev proposal id -> word (member index / 256) -> bit per member index: voted
voted: HashMap[bytes32, HashMap[uint256, uint256]]
# @dev member index / 8 -> eight 32-bit signature nonces (castVoteBySig)
nonce_words: HashMap[uint256, uint256]

_cached_chain_id: immutable(uint256)
_cached_domain_separator: immutable(bytes32)


@deploy
def __init__(
    _membership: address,
    _timelock: address,
    _sla_templates: address,
    _module_registry: address,
    _guardian: address,
    initial_rules: Rules[KIND_COUNT],
):
    """
    @notice Create the Governor with each kind's rules.
    @param _membership The member register.
    @param _timelock The Timelock that executes proposals.
    @param _sla_templates The SLA template register.
    @param _module_registry The module registry.
    @param _guardian Who may cancel proposals before execution (empty for nobody).
    @param initial_rules Rules for ADMIT_MEMBER .. CHANGE_RULES, in that order.
    """
    membership = _membership
    timelock = _timelock
    sla_templates = _sla_templates
    module_registry = _module_registry
    self.guardian = _guardian
    for kind: uint256 in range(KIND_COUNT):
        self._set_rules(kind, initial_rules[kind])
    _cached_chain_id = chain.id
    _cached_domain_separator = self._domain_separator()


# ------------------------------------------------------------------ proposing


@external
def propose(
    kind: uint256,
    targets: DynArray[address, MAX_ACTIONS],
    values: DynArray[uint256, MAX_ACTIONS],
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_ACTIONS],
    description: String[MAX_DESCRIPTION],
) -> bytes32:
    """
    @notice Propose actions for the members' vote. Only a member.
    @param kind ADMIT_MEMBER .. CHANGE_RULES; decides the rules and which calls are allowed.
    @param targets Contracts the Timelock will call.
    @param values Wei sent with each call.
    @param calldatas Each call's data.
    @param description What the proposal is, for the members.
    @return The proposal id.
    """
    assert kind < KIND_COUNT, "Governor: unknown kind"
    assert len(targets) > 0, "Governor: no actions"
    assert len(targets) == len(values) and len(targets) == len(calldatas), "Governor: actions differ in length"
    if kind != CHANGE_RULES:
        for i: uint256 in range(len(targets), bound=MAX_ACTIONS):
            assert len(calldatas[i]) >= 4, "Governor: action without a function"
            assert self._action_allowed(kind, targets[i], convert(slice(calldatas[i], 0, 4), bytes4)), "Governor: action not allowed for this kind"
    snapshot: uint256 = 0
    eligible: uint256 = 0
    snapshot, eligible = staticcall IMembership(membership).snapshot_for(msg.sender)
    actions_hash: bytes32 = keccak256(abi_encode(targets, values, calldatas))
    proposal_id: bytes32 = keccak256(abi_encode(msg.sender, actions_hash, keccak256(description)))
    assert self.packed_proposals[proposal_id] == 0, "Governor: proposal exists"
    rules: Rules = self._rules(kind)
    vote_start: uint256 = block.timestamp + rules.voting_delay
    vote_end: uint256 = vote_start + rules.voting_period
    flags: uint256 = 0
    if rules.approval_inclusive:
        flags = FLAG_APPROVAL_INCLUSIVE
    self.packed_proposals[proposal_id] = self._pack(
        Proposal(
            vote_start=vote_start,
            vote_end=vote_end,
            snapshot=snapshot,
            eligible=eligible,
            for_votes=0,
            against_votes=0,
            abstain_votes=0,
            # ceil(numerator * eligible / denominator): participation * den >= num * eligible
            quorum_votes=(rules.quorum_numerator * eligible + rules.quorum_denominator - 1) // rules.quorum_denominator,
            approval_numerator=rules.approval_numerator,
            approval_denominator=rules.approval_denominator,
            kind=kind,
            flags=flags,
            eta=0,
        )
    )
    log ProposalCreated(
        proposal_id=proposal_id,
        proposer=msg.sender,
        kind=kind,
        targets=targets,
        values=values,
        calldatas=calldatas,
        description=description,
        snapshot=snapshot,
        eligible=eligible,
        vote_start=vote_start,
        vote_end=vote_end,
    )
    return proposal_id


@external
@view
def hash_proposal(
    proposer: address,
    targets: DynArray[address, MAX_ACTIONS],
    values: DynArray[uint256, MAX_ACTIONS],
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_ACTIONS],
    description_hash: bytes32,
) -> bytes32:
    """
    @notice The id a proposal by `proposer` with these actions and description has.
    @return The proposal id.
    """
    return keccak256(abi_encode(proposer, keccak256(abi_encode(targets, values, calldatas)), description_hash))


# ------------------------------------------------------------------ voting


@external
def castVote(proposal_id: bytes32, support: uint8):
    """
    @notice Vote on an active proposal: 0 Against, 1 For, 2 Abstain.
    @param proposal_id The proposal.
    @param support The vote.
    """
    packed: uint256 = self.packed_proposals[proposal_id]
    self._count_vote(proposal_id, packed, self._voter_index(packed, msg.sender), msg.sender, support, "")


@external
def castVoteWithReason(proposal_id: bytes32, support: uint8, reason: String[MAX_REASON]):
    """
    @notice Vote with a reason the other members can read.
    @param proposal_id The proposal.
    @param support The vote.
    @param reason Why.
    """
    packed: uint256 = self.packed_proposals[proposal_id]
    self._count_vote(proposal_id, packed, self._voter_index(packed, msg.sender), msg.sender, support, reason)


@external
def castVoteBySig(proposal_id: bytes32, support: uint8, voter: address, signature: Bytes[65]):
    """
    @notice Cast a vote a member signed with its own key (EIP-712 `Ballot`); anyone may
            relay it, nobody can alter it.
    @dev Nonces are 32 bits per member, eight to a storage word by member index.
    @param proposal_id The proposal.
    @param support The vote.
    @param voter The member who signed.
    @param signature 65 bytes r || s || v over the Ballot with the voter's current nonce.
    """
    packed: uint256 = self.packed_proposals[proposal_id]
    index: uint256 = self._voter_index(packed, voter)
    nonce_word: uint256 = self.nonce_words[index >> 3]
    nonce_shift: uint256 = (index & 7) * 32
    nonce: uint256 = (nonce_word >> nonce_shift) & MASK_32
    struct_hash: bytes32 = keccak256(
        abi_encode(BALLOT_TYPEHASH, proposal_id, convert(support, uint256), voter, nonce)
    )
    digest: bytes32 = keccak256(concat(b"\x19\x01", self._domain_separator_cached(), struct_hash))
    assert len(signature) == 65, "Governor: signature must be 65 bytes"
    r: uint256 = convert(slice(signature, 0, 32), uint256)
    s: uint256 = convert(slice(signature, 32, 32), uint256)
    v: uint256 = convert(slice(signature, 64, 1), uint256)
    assert s <= HALF_CURVE_ORDER, "Governor: malleable signature"
    assert v == 27 or v == 28, "Governor: bad signature"
    signer: address = ecrecover(digest, v, r, s)
    assert signer != empty(address) and signer == voter, "Governor: signature is not the voter's"
    assert nonce < MASK_32, "Governor: nonces exhausted"
    self.nonce_words[index >> 3] = nonce_word + (1 << nonce_shift)
    self._count_vote(proposal_id, packed, index, voter, support, "")


@external
@view
def nonces(voter: address) -> uint256:
    """
    @notice The nonce the voter's next signed ballot must carry.
    @param voter The member.
    @return The nonce.
    """
    index: uint256 = staticcall IMembership(membership).index_of(voter)
    return (self.nonce_words[index >> 3] >> ((index & 7) * 32)) & MASK_32


@external
@view
def has_voted(proposal_id: bytes32, account: address) -> bool:
    """
    @notice Whether `account` voted on the proposal (False for anyone not eligible).
    @param proposal_id The proposal.
    @param account The member.
    @return True when it voted.
    """
    packed: uint256 = self.packed_proposals[proposal_id]
    if packed == 0:
        return False
    if not staticcall IMembership(membership).was_member_at(account, (packed >> 80) & MASK_24):
        return False
    index: uint256 = staticcall IMembership(membership).index_of(account)
    return (self.voted[proposal_id][index >> 8] >> (index & 255)) & 1 == 1


@external
@view
def DOMAIN_SEPARATOR() -> bytes32:
    """
    @notice The EIP-712 domain separator of signed ballots.
    @return The separator for the current chain.
    """
    return self._domain_separator_cached()


# ------------------------------------------------------------------ queue, execute, cancel


@external
def queue(
    proposer: address,
    targets: DynArray[address, MAX_ACTIONS],
    values: DynArray[uint256, MAX_ACTIONS],
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_ACTIONS],
    description_hash: bytes32,
) -> bytes32:
    """
    @notice Queue a succeeded proposal in the Timelock. Anyone may.
    @dev The proposer and actions identify the proposal (they are not stored).
    @return The proposal id.
    """
    actions_hash: bytes32 = keccak256(abi_encode(targets, values, calldatas))
    proposal_id: bytes32 = keccak256(abi_encode(proposer, actions_hash, description_hash))
    proposal: Proposal = self._load(proposal_id)
    assert self._state(proposal) == SUCCEEDED, "Governor: proposal not successful"
    # Never shorter than the Timelock's minimum: a rule change that raised the minimum
    # alone would otherwise make every proposal, itself included, impossible to queue.
    eta: uint256 = block.timestamp + max(
        self._rules(proposal.kind).timelock_delay, staticcall ITimelock(timelock).minimum_delay()
    )
    proposal.flags |= FLAG_QUEUED
    proposal.eta = eta
    self.packed_proposals[proposal_id] = self._pack(proposal)
    extcall ITimelock(timelock).schedule(keccak256(abi_encode(actions_hash, proposal_id)), proposal_id, eta)
    log ProposalQueued(proposal_id=proposal_id, eta=eta)
    return proposal_id


@external
@payable
def execute(
    proposer: address,
    targets: DynArray[address, MAX_ACTIONS],
    values: DynArray[uint256, MAX_ACTIONS],
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_ACTIONS],
    description_hash: bytes32,
) -> bytes32:
    """
    @notice Execute a queued proposal whose delay has passed. Anyone may.
    @return The proposal id.
    """
    proposal_id: bytes32 = keccak256(
        abi_encode(proposer, keccak256(abi_encode(targets, values, calldatas)), description_hash)
    )
    proposal: Proposal = self._load(proposal_id)
    assert self._state(proposal) == QUEUED, "Governor: proposal not queued"
    assert block.timestamp >= proposal.eta, "Governor: timelock delay not over"
    proposal.flags |= FLAG_EXECUTED
    self.packed_proposals[proposal_id] = self._pack(proposal)
    extcall ITimelock(timelock).execute(targets, values, calldatas, proposal_id, value=msg.value)
    log ProposalExecuted(proposal_id=proposal_id)
    return proposal_id


@external
def cancel(
    proposer: address,
    targets: DynArray[address, MAX_ACTIONS],
    values: DynArray[uint256, MAX_ACTIONS],
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_ACTIONS],
    description_hash: bytes32,
) -> bytes32:
    """
    @notice Cancel a proposal: by its proposer while nobody has voted, or by the guardian
            at any time before execution.
    @return The proposal id.
    """
    actions_hash: bytes32 = keccak256(abi_encode(targets, values, calldatas))
    proposal_id: bytes32 = keccak256(abi_encode(proposer, actions_hash, description_hash))
    proposal: Proposal = self._load(proposal_id)
    state: uint256 = self._state(proposal)
    assert state != CANCELED and state != EXECUTED and state != EXPIRED, "Governor: proposal is final"
    if msg.sender != self.guardian or msg.sender == empty(address):
        assert msg.sender == proposer, "Governor: only the proposer or the guardian"
        assert state == PENDING or state == ACTIVE, "Governor: voting is over"
        votes: uint256 = proposal.for_votes + proposal.against_votes + proposal.abstain_votes
        assert votes == 0, "Governor: votes were cast"
    if proposal.flags & FLAG_QUEUED != 0:
        extcall ITimelock(timelock).cancel(keccak256(abi_encode(actions_hash, proposal_id)))
    proposal.flags |= FLAG_CANCELED
    self.packed_proposals[proposal_id] = self._pack(proposal)
    log ProposalCanceled(proposal_id=proposal_id, by=msg.sender)
    return proposal_id


# ------------------------------------------------------------------ reading


@external
@view
def state(proposal_id: bytes32) -> uint256:
    """
    @notice The proposal's state: 0 Pending, 1 Active, 2 Canceled, 3 Defeated,
            4 Succeeded, 5 Queued, 6 Expired, 7 Executed.
    @param proposal_id The proposal.
    @return The state.
    """
    return self._state(self._load(proposal_id))


@external
@view
def proposal(proposal_id: bytes32) -> Proposal:
    """
    @notice A proposal's times, snapshot, tallies, kind, flags and eta.
    @param proposal_id The proposal.
    @return The proposal.
    """
    return self._load(proposal_id)


@external
@view
def rules(kind: uint256) -> Rules:
    """
    @notice The rules of a proposal kind.
    @param kind ADMIT_MEMBER .. CHANGE_RULES.
    @return The rules.
    """
    assert kind < KIND_COUNT, "Governor: unknown kind"
    return self._rules(kind)


# ------------------------------------------------------------------ rule changes (Timelock only)


@external
def set_rules(kind: uint256, new_rules: Rules):
    """
    @notice Change a kind's rules. Only the Timelock, i.e. by a CHANGE_RULES proposal.
    @param kind The kind.
    @param new_rules Its new rules.
    """
    assert msg.sender == timelock, "Governor: only the timelock"
    self._set_rules(kind, new_rules)


@external
def set_guardian(new_guardian: address):
    """
    @notice Change (or, with the empty address, remove) the guardian. Only the Timelock.
    @param new_guardian The new guardian.
    """
    assert msg.sender == timelock, "Governor: only the timelock"
    log GuardianChanged(old_guardian=self.guardian, new_guardian=new_guardian)
    self.guardian = new_guardian


# ------------------------------------------------------------------ internals


@internal
@view
def _voter_index(packed: uint256, voter: address) -> uint256:
    # Reads only what voting needs from the proposal word: it must exist, be neither
    # canceled nor executed, and be inside its voting window.
    vote_start: uint256 = packed & MASK_40
    assert vote_start != 0, "Governor: unknown proposal"
    closed: bool = (packed >> 204) & (FLAG_CANCELED | FLAG_EXECUTED) != 0
    assert not closed and block.timestamp >= vote_start and block.timestamp <= (packed >> 40) & MASK_40, "Governor: voting is closed"
    return staticcall IMembership(membership).voter_at(voter, (packed >> 80) & MASK_24)


@internal
def _count_vote(
    proposal_id: bytes32, packed: uint256, index: uint256, voter: address, support: uint8, reason: String[MAX_REASON]
):
    # Works on the packed word directly: the vote's hot path stays a handful of shifts.
    assert support <= VOTE_ABSTAIN, "Governor: invalid vote"
    word: uint256 = self.voted[proposal_id][index >> 8]
    bit: uint256 = 1 << (index & 255)
    assert word & bit == 0, "Governor: already voted"
    self.voted[proposal_id][index >> 8] = word | bit

    # for votes at bit 120, against at 136, abstain at 152
    offset: uint256 = 136
    if support == VOTE_FOR:
        offset = 120
    elif support == VOTE_ABSTAIN:
        offset = 152
    updated: uint256 = packed + (1 << offset)
    participation: uint256 = ((updated >> 120) & MASK_16) + ((updated >> 136) & MASK_16) + ((updated >> 152) & MASK_16)
    if participation == (updated >> 168) & MASK_16:
        # This vote reached quorum. Reached late, voting lasts a little longer, so the
        # members who have not voted can still react.
        extended_end: uint256 = block.timestamp + self._rules((updated >> 200) & 15).late_quorum_extension
        if extended_end > (updated >> 40) & MASK_40:
            updated = (updated & ~(MASK_40 << 40)) | (extended_end << 40) | (FLAG_EXTENDED << 204)
            log VotingExtended(proposal_id=proposal_id, vote_end=extended_end)
    self.packed_proposals[proposal_id] = updated
    log VoteCast(voter=voter, proposal_id=proposal_id, support=support, reason=reason)


@internal
@view
def _state(proposal: Proposal) -> uint256:
    if proposal.flags & FLAG_EXECUTED != 0:
        return EXECUTED
    if proposal.flags & FLAG_CANCELED != 0:
        return CANCELED
    if block.timestamp < proposal.vote_start:
        return PENDING
    if block.timestamp <= proposal.vote_end:
        return ACTIVE
    if proposal.flags & FLAG_QUEUED != 0:
        if block.timestamp >= proposal.eta + GRACE_PERIOD:
            return EXPIRED
        return QUEUED
    if self._succeeded(proposal):
        return SUCCEEDED
    return DEFEATED


@internal
@pure
def _succeeded(proposal: Proposal) -> bool:
    participation: uint256 = proposal.for_votes + proposal.against_votes + proposal.abstain_votes
    if participation < proposal.quorum_votes or proposal.for_votes == 0:
        return False
    decided: uint256 = proposal.for_votes + proposal.against_votes
    if proposal.flags & FLAG_APPROVAL_INCLUSIVE != 0:
        return proposal.for_votes * proposal.approval_denominator >= proposal.approval_numerator * decided
    return proposal.for_votes * proposal.approval_denominator > proposal.approval_numerator * decided


@internal
@view
def _action_allowed(kind: uint256, target: address, selector: bytes4) -> bool:
    if kind == ADMIT_MEMBER:
        return target == membership and selector == ADMIT_SELECTOR
    if kind == REMOVE_MEMBER:
        return target == membership and selector == REMOVE_SELECTOR
    if kind == ADOPT_SLA_TEMPLATE:
        return target == sla_templates and selector == ADOPT_SELECTOR
    if kind == RETIRE_SLA_TEMPLATE:
        return target == sla_templates and selector == RETIRE_SELECTOR
    if kind == UPGRADE_MODULE:
        if target == module_registry:
            return selector == RECORD_UPGRADE_SELECTOR or selector == REGISTER_SELECTOR
        # a module's beacon; never one of the governance contracts themselves
        return selector == UPGRADE_TO_SELECTOR and target != membership and target != sla_templates and target != timelock and target != self
    return True  # CHANGE_RULES may call anything


@internal
@view
def _load(proposal_id: bytes32) -> Proposal:
    proposal: Proposal = self._unpack(self.packed_proposals[proposal_id])
    assert proposal.vote_start != 0, "Governor: unknown proposal"
    return proposal


@internal
@view
def _rules(kind: uint256) -> Rules:
    packed: uint256 = self.packed_rules[kind]
    return Rules(
        quorum_numerator=packed & 255,
        quorum_denominator=(packed >> 8) & 255,
        approval_numerator=(packed >> 16) & 255,
        approval_denominator=(packed >> 24) & 255,
        approval_inclusive=(packed >> 32) & 1 == 1,
        voting_delay=(packed >> 40) & 4294967295,
        voting_period=(packed >> 72) & 4294967295,
        timelock_delay=(packed >> 104) & 4294967295,
        late_quorum_extension=(packed >> 136) & 4294967295,
    )


@internal
def _set_rules(kind: uint256, rules: Rules):
    assert kind < KIND_COUNT, "Governor: unknown kind"
    assert rules.quorum_denominator > 0 and rules.quorum_denominator < 256, "Governor: quorum denominator out of range"
    assert rules.quorum_numerator > 0 and rules.quorum_numerator <= rules.quorum_denominator, "Governor: quorum must be a fraction in (0, 1]"
    assert rules.approval_denominator > 0 and rules.approval_denominator < 256, "Governor: approval denominator out of range"
    assert rules.approval_numerator > 0 and rules.approval_numerator < rules.approval_denominator, "Governor: approval must be a fraction in (0, 1)"
    assert rules.voting_period > 0, "Governor: zero voting period"
    assert rules.late_quorum_extension <= rules.voting_period, "Governor: extension longer than the voting period"
    assert rules.voting_delay < 2**32 and rules.voting_period < 2**32, "Governor: period too long"
    assert rules.timelock_delay < 2**32 and rules.late_quorum_extension < 2**32, "Governor: delay too long"
    assert rules.timelock_delay >= staticcall ITimelock(timelock).minimum_delay(), "Governor: delay below the timelock's minimum"
    inclusive: uint256 = 0
    if rules.approval_inclusive:
        inclusive = 1
    self.packed_rules[kind] = (
        rules.quorum_numerator
        | (rules.quorum_denominator << 8)
        | (rules.approval_numerator << 16)
        | (rules.approval_denominator << 24)
        | (inclusive << 32)
        | (rules.voting_delay << 40)
        | (rules.voting_period << 72)
        | (rules.timelock_delay << 104)
        | (rules.late_quorum_extension << 136)
    )
    log RulesChanged(kind=kind, rules=rules)


@internal
@pure
def _pack(proposal: Proposal) -> uint256:
    # vote_start 40 | vote_end 40 | snapshot 24 | eligible 16 | for 16 | against 16 |
    # abstain 16 | quorum 16 | approval numerator 8 | denominator 8 | kind 4 | flags 8 |
    # eta 40  = 252 bits (times in seconds fit 40 bits until the year 36812)
    assert proposal.eligible <= MAX_ELIGIBLE, "Governor: too many members"
    assert proposal.snapshot < 2**24, "Governor: register epoch out of range"
    return (
        proposal.vote_start
        | (proposal.vote_end << 40)
        | (proposal.snapshot << 80)
        | (proposal.eligible << 104)
        | (proposal.for_votes << 120)
        | (proposal.against_votes << 136)
        | (proposal.abstain_votes << 152)
        | (proposal.quorum_votes << 168)
        | (proposal.approval_numerator << 184)
        | (proposal.approval_denominator << 192)
        | (proposal.kind << 200)
        | (proposal.flags << 204)
        | (proposal.eta << 212)
    )


@internal
@pure
def _unpack(packed: uint256) -> Proposal:
    return Proposal(
        vote_start=packed & MASK_40,
        vote_end=(packed >> 40) & MASK_40,
        snapshot=(packed >> 80) & MASK_24,
        eligible=(packed >> 104) & MASK_16,
        for_votes=(packed >> 120) & MASK_16,
        against_votes=(packed >> 136) & MASK_16,
        abstain_votes=(packed >> 152) & MASK_16,
        quorum_votes=(packed >> 168) & MASK_16,
        approval_numerator=(packed >> 184) & MASK_8,
        approval_denominator=(packed >> 192) & MASK_8,
        kind=(packed >> 200) & 15,
        flags=(packed >> 204) & MASK_8,
        eta=packed >> 212,
    )


@internal
@view
def _domain_separator() -> bytes32:
    return keccak256(
        abi_encode(EIP712_DOMAIN_TYPEHASH, keccak256(EIP712_NAME), keccak256(EIP712_VERSION), chain.id, self)
    )


@internal
@view
def _domain_separator_cached() -> bytes32:
    # Recomputed only if the chain id changed (a fork), so a ballot never replays across chains.
    if chain.id == _cached_chain_id:
        return _cached_domain_separator
    return self._domain_separator()
