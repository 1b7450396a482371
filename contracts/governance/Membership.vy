# pragma version 0.4.3
"""
@title Membership
@custom:contract-name Membership
@license Apache-2.0
@notice The cooperative's member register: which carriers are members, since when and
        until when. Membership is the voting power of the cooperative (one member, one
        vote), so it is not a token: it cannot be transferred, only granted and withdrawn
        by the members' own decision, executed through the Timelock.
@dev First version (platform foundation): founders at deployment, `is_member`, the member
     count, admission and removal by the Timelock. Block numbers of joining and leaving
     are kept per member so the Governor can later ask who was eligible at a snapshot.
"""

# @dev A name is a carrier's legal or trading name, as shown to the other members.
MAX_NAME_LENGTH: constant(uint256) = 64
# @dev Founders are a handful of carriers; a bound keeps the constructor's gas bounded.
MAX_FOUNDERS: constant(uint256) = 64


struct Member:
    name: String[MAX_NAME_LENGTH]
    joined_block: uint256  # 0 = never a member
    left_block: uint256  # 0 = still a member


event MemberAdmitted:
    member: indexed(address)
    name: String[MAX_NAME_LENGTH]
    joined_block: uint256


event MemberRemoved:
    member: indexed(address)
    left_block: uint256


# @notice The only address that may admit or remove members: the cooperative's Timelock,
#         which executes what the members voted for.
timelock: public(immutable(address))

# @notice The register, by member address; a removed member keeps its record with `left_block` set.
members: public(HashMap[address, Member])

# @notice How many members the cooperative has now.
member_count: public(uint256)


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
def admit(account: address, name: String[MAX_NAME_LENGTH]):
    """
    @notice Admit a carrier as a member. Only the Timelock, after the members' vote.
    @dev A former member may be admitted again; its record starts anew.
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
    self.members[account].left_block = block.number
    self.member_count -= 1
    log MemberRemoved(member=account, left_block=block.number)


@internal
@view
def _is_member(account: address) -> bool:
    record: Member = self.members[account]
    return record.joined_block != 0 and record.left_block == 0


@internal
def _admit(account: address, name: String[MAX_NAME_LENGTH]):
    assert account != empty(address), "Membership: zero address"
    assert len(name) > 0, "Membership: empty name"
    assert not self._is_member(account), "Membership: already a member"
    self.members[account] = Member(name=name, joined_block=block.number, left_block=0)
    self.member_count += 1
    log MemberAdmitted(member=account, name=name, joined_block=block.number)
