# pragma version 0.4.3
"""
@title Membership
@custom:contract-name Membership
@license Apache-2.0
@notice The cooperative's member register: which carriers are members, since when and
        until when. Membership is the voting power of the cooperative (one member, one
        vote), so it is not a token: it cannot be transferred, only granted and withdrawn
        by the members' own decision, executed through the Timelock.
@dev Eligibility at a snapshot. Every admission and removal advances the register's
     `epoch` by one; a proposal snapshots the epoch when it is created. A member is
     eligible at snapshot `s` when it joined at an epoch <= s and had not left by then
     (left epoch > s, or never). So a member admitted after a proposal was created cannot
     vote on it, and a member removed cannot vote on proposals created after the removal,
     even within one block. The member count after every epoch is kept, so the number of
     eligible voters at a snapshot is one read.
     Each member also gets a permanent `index` (1, 2, ...) at its first admission; the
     Governor records votes in a bitmap by index, one storage word per 256 members.

     Gas: the Governor asks this register once per proposal and once per vote, so what
     those calls read is packed: a member's index and current period in one word, the
     epoch and member count in another.
"""

# @dev A name is a carrier's legal or trading name, as shown to the other members.
MAX_NAME_LENGTH: constant(uint256) = 64
# @dev Founders are a handful of carriers; a bound keeps the constructor's gas bounded.
MAX_FOUNDERS: constant(uint256) = 64
# @dev How many earlier membership periods are kept per member (left and re-admitted).
MAX_PAST_PERIODS: constant(uint256) = 16
# @dev Packed fields: indexes and epochs take 64 bits, the epoch in the register 128.
INDEX_MASK: constant(uint256) = 2**64 - 1
EPOCH_MASK: constant(uint256) = 2**128 - 1


struct Period:
    joined_epoch: uint256
    left_epoch: uint256  # 0 = still a member


struct Member:
    name: String[MAX_NAME_LENGTH]
    index: uint256  # 0 = never admitted
    current: Period  # the latest period of membership


event MemberAdmitted:
    member: indexed(address)
    name: String[MAX_NAME_LENGTH]
    index: uint256
    epoch: uint256


event MemberRemoved:
    member: indexed(address)
    epoch: uint256


# @notice The only address that may admit or remove members: the cooperative's Timelock,
#         which executes what the members voted for.
timelock: public(immutable(address))

# @dev member -> index (bits 0-63) | joined epoch (64-127) | left epoch (128-191)
member_words: HashMap[address, uint256]
names: HashMap[address, String[MAX_NAME_LENGTH]]
# @notice Periods before the current one, for members that left and were admitted again.
past_periods: public(HashMap[address, DynArray[Period, MAX_PAST_PERIODS]])
# @dev epoch (bits 0-127) | member count (128-255)
register_word: uint256
# @notice The member count right after each epoch.
member_count_at: public(HashMap[uint256, uint256])
# @notice How many member indexes were handed out.
last_index: public(uint256)


@deploy
def __init__(
    _timelock: address,
    founders: DynArray[address, MAX_FOUNDERS],
    founder_names: DynArray[String[MAX_NAME_LENGTH], MAX_FOUNDERS],
):
    """
    @notice Set the Timelock and admit the founding members.
    @param _timelock The address allowed to admit and remove members.
    @param founders The founding members' addresses.
    @param founder_names Their names, in the same order.
    """
    assert _timelock != empty(address), "Membership: zero timelock"
    assert len(founders) > 0, "Membership: no founders"
    assert len(founders) == len(founder_names), "Membership: founders and names differ in length"
    timelock = _timelock
    for i: uint256 in range(len(founders), bound=MAX_FOUNDERS):
        self._admit(founders[i], founder_names[i])


# ------------------------------------------------------------------ views


@external
@view
def members(account: address) -> Member:
    """
    @notice A member's record: name, permanent index and current (latest) period.
    @param account The address.
    @return The record (index 0 when never admitted).
    """
    word: uint256 = self.member_words[account]
    return Member(
        name=self.names[account],
        index=word & INDEX_MASK,
        current=Period(joined_epoch=(word >> 64) & INDEX_MASK, left_epoch=word >> 128),
    )


@external
@view
def member_count() -> uint256:
    """
    @notice How many members the cooperative has now.
    @return The member count.
    """
    return self.register_word >> 128


@external
@view
def epoch() -> uint256:
    """
    @notice How many admissions and removals have happened: the register's version.
    @return The current epoch.
    """
    return self.register_word & EPOCH_MASK


@external
@view
def is_member(account: address) -> bool:
    """
    @notice Whether `account` is a member now.
    @param account The address to check.
    @return True for a current member.
    """
    return self._is_member(account)


@external
@view
def was_member_at(account: address, snapshot: uint256) -> bool:
    """
    @notice Whether `account` was a member at register epoch `snapshot`.
    @param account The address to check.
    @param snapshot A register epoch, as a proposal snapshotted it.
    @return True when eligible at that snapshot.
    """
    return self._was_member_at(account, self.member_words[account], snapshot)


@external
@view
def voter_at(account: address, snapshot: uint256) -> uint256:
    """
    @notice The member index of `account` if it was a member at `snapshot`; reverts otherwise.
    @dev The Governor's one call per vote: eligibility and the bitmap position together.
    @param account The voter.
    @param snapshot The proposal's register epoch.
    @return The member's permanent index (>= 1).
    """
    word: uint256 = self.member_words[account]
    assert self._was_member_at(account, word, snapshot), "Membership: not a member at the snapshot"
    return word & INDEX_MASK


@external
@view
def past_period_count(account: address) -> uint256:
    """
    @notice How many earlier periods of membership `account` has (see `past_periods`).
    @param account The address.
    @return The number of earlier periods.
    """
    return len(self.past_periods[account])


@external
@view
def index_of(account: address) -> uint256:
    """
    @notice A member's permanent index (0 when never admitted).
    @param account The address.
    @return The index.
    """
    return self.member_words[account] & INDEX_MASK


@external
@view
def snapshot_for(proposer: address) -> (uint256, uint256):
    """
    @notice The register's epoch and member count now, for a proposal by `proposer`;
            reverts when the proposer is not a member.
    @param proposer Who is creating the proposal.
    @return (epoch, member count at that epoch).
    """
    assert self._is_member(proposer), "Membership: proposer is not a member"
    register: uint256 = self.register_word
    return register & EPOCH_MASK, register >> 128


# ------------------------------------------------------------------ changes (Timelock only)


@external
def admit(account: address, name: String[MAX_NAME_LENGTH]):
    """
    @notice Admit a carrier as a member. Only the Timelock, after the members' vote.
    @dev A former member may be admitted again; its earlier periods are kept.
    @param account The carrier's address.
    @param name The carrier's name.
    """
    assert msg.sender == timelock, "Membership: only the timelock"
    self._admit(account, name)


@external
def remove(account: address):
    """
    @notice Remove a member. Only the Timelock, after the members' vote.
    @param account The member's address.
    """
    assert msg.sender == timelock, "Membership: only the timelock"
    assert self._is_member(account), "Membership: not a member"
    epoch: uint256 = self._advance_epoch(False)
    self.member_words[account] = self.member_words[account] | (epoch << 128)
    log MemberRemoved(member=account, epoch=epoch)


# ------------------------------------------------------------------ internals


@internal
@view
def _is_member(account: address) -> bool:
    word: uint256 = self.member_words[account]
    return (word >> 64) & INDEX_MASK != 0 and word >> 128 == 0


@internal
@view
def _was_member_at(account: address, word: uint256, snapshot: uint256) -> bool:
    joined: uint256 = (word >> 64) & INDEX_MASK
    left: uint256 = word >> 128
    if joined == 0:
        return False
    if joined <= snapshot:
        return left == 0 or left > snapshot
    # Admitted again after the snapshot: was an earlier period open at the snapshot?
    for period: Period in self.past_periods[account]:
        if period.joined_epoch <= snapshot and period.left_epoch > snapshot:
            return True
    return False


@internal
def _advance_epoch(admitting: bool) -> uint256:
    register: uint256 = self.register_word
    epoch: uint256 = (register & EPOCH_MASK) + 1
    count: uint256 = register >> 128
    if admitting:
        count += 1
    else:
        count -= 1
    self.register_word = epoch | (count << 128)
    self.member_count_at[epoch] = count
    return epoch


@internal
def _admit(account: address, name: String[MAX_NAME_LENGTH]):
    assert account != empty(address), "Membership: zero address"
    assert len(name) > 0, "Membership: empty name"
    assert not self._is_member(account), "Membership: already a member"
    word: uint256 = self.member_words[account]
    index: uint256 = word & INDEX_MASK
    if index == 0:
        self.last_index += 1
        index = self.last_index
    else:
        assert len(self.past_periods[account]) < MAX_PAST_PERIODS, "Membership: too many re-admissions"
        self.past_periods[account].append(Period(joined_epoch=(word >> 64) & INDEX_MASK, left_epoch=word >> 128))
    epoch: uint256 = self._advance_epoch(True)
    self.member_words[account] = index | (epoch << 64)
    self.names[account] = name
    log MemberAdmitted(member=account, name=name, index=index, epoch=epoch)
