# pragma version 0.4.3
"""
@title Timelock
@custom:contract-name Timelock
@license Apache-2.0
@notice Holds every privileged role of the cooperative (Membership, SlaTemplates,
        ModuleRegistry, every module beacon, and itself) and performs what the members
        voted for, after a delay that lets every member see it coming.
@dev Only the Governor schedules, executes and cancels; the Governor's guardian cancels
     through the Governor. An operation is identified by
     keccak256(abi_encode(actions_hash, salt)), where actions_hash is
     keccak256(abi_encode(targets, values, calldatas)) and the salt is the proposal id.
     `execute` recomputes it from the actions it is given, so only the actions that were
     scheduled can ever run. An operation not executed within GRACE_PERIOD of its time
     expires. Bounds are small on purpose: Vyper reserves memory for the largest
     possible actions, and memory costs gas quadratically. The Governor is wired once, by the deployer, right after both
     are deployed; from then on nobody but the members' vote changes anything here.
"""

# @dev A proposal's actions: at most this many calls, each with calldata up to MAX_CALLDATA.
MAX_ACTIONS: constant(uint256) = 8
MAX_CALLDATA: constant(uint256) = 1024
# @dev How long a ready operation may still be executed.
GRACE_PERIOD: constant(uint256) = 14 * 86400
# @dev The smallest delay the members may set: never zero, so an operation is always
#      visible on chain before it runs (demo mode uses 30 seconds).
MIN_DELAY_FLOOR: constant(uint256) = 1


event GovernorSet:
    governor: indexed(address)


event OperationScheduled:
    operation_id: indexed(bytes32)
    salt: indexed(bytes32)
    ready_at: uint256


event OperationExecuted:
    operation_id: indexed(bytes32)
    salt: indexed(bytes32)


event OperationCanceled:
    operation_id: indexed(bytes32)


event MinimumDelayChanged:
    old_delay: uint256
    new_delay: uint256


# @notice The Governor: the only address that schedules, executes and cancels.
governor: public(address)
# @notice Who deployed the Timelock, until it wired the Governor (then empty).
deployer: public(address)
# @notice The shortest delay any operation may be scheduled with.
minimum_delay: public(uint256)
# @notice operation id -> ready-at timestamp (0 = not scheduled, executed or canceled).
timestamps: public(HashMap[bytes32, uint256])


@deploy
def __init__(_minimum_delay: uint256):
    """
    @notice Create the Timelock; the deployer then wires the Governor once.
    @param _minimum_delay The shortest delay of any operation, in seconds.
    """
    assert _minimum_delay >= MIN_DELAY_FLOOR, "Timelock: delay below the floor"
    self.minimum_delay = _minimum_delay
    self.deployer = msg.sender


@external
def set_governor(_governor: address):
    """
    @notice Wire the Governor. Once, by the deployer; the deployer's role ends here.
    @param _governor The Governor contract.
    """
    assert msg.sender == self.deployer, "Timelock: only the deployer, once"
    assert _governor != empty(address), "Timelock: zero governor"
    self.governor = _governor
    self.deployer = empty(address)
    log GovernorSet(governor=_governor)


@external
@payable
def __default__():
    # Accept value so proposals may pay for what they execute.
    pass


@external
@view
def operation_id(
    targets: DynArray[address, MAX_ACTIONS],
    values: DynArray[uint256, MAX_ACTIONS],
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_ACTIONS],
    salt: bytes32,
) -> bytes32:
    """
    @notice The id of an operation.
    @param targets Called contracts.
    @param values Wei sent with each call.
    @param calldatas Each call's data.
    @param salt The proposal id.
    @return The operation id.
    """
    return keccak256(abi_encode(keccak256(abi_encode(targets, values, calldatas)), salt))


@external
def schedule(operation: bytes32, salt: bytes32, ready_at: uint256):
    """
    @notice Schedule an operation for `ready_at`. Only the Governor, which derives the id
            from the proposal's actions (see `operation_id`).
    @param operation The operation id.
    @param salt The proposal id (for the event).
    @param ready_at The earliest execution time; at least `minimum_delay` from now.
    """
    assert msg.sender == self.governor, "Timelock: only the governor"
    assert ready_at >= block.timestamp + self.minimum_delay, "Timelock: delay too short"
    assert self.timestamps[operation] == 0, "Timelock: operation already scheduled"
    self.timestamps[operation] = ready_at
    log OperationScheduled(operation_id=operation, salt=salt, ready_at=ready_at)


@external
@payable
def execute(
    targets: DynArray[address, MAX_ACTIONS],
    values: DynArray[uint256, MAX_ACTIONS],
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_ACTIONS],
    salt: bytes32,
):
    """
    @notice Perform a ready operation's calls, in order; any failing call reverts all.
    @param targets Called contracts.
    @param values Wei sent with each call.
    @param calldatas Each call's data.
    @param salt The proposal id.
    """
    assert msg.sender == self.governor, "Timelock: only the governor"
    assert len(targets) == len(values) and len(targets) == len(calldatas), "Timelock: actions differ in length"
    operation: bytes32 = keccak256(abi_encode(keccak256(abi_encode(targets, values, calldatas)), salt))
    ready_at: uint256 = self.timestamps[operation]
    assert ready_at != 0, "Timelock: operation not scheduled"
    assert block.timestamp >= ready_at, "Timelock: operation not ready"
    assert block.timestamp < ready_at + GRACE_PERIOD, "Timelock: operation expired"
    self.timestamps[operation] = 0  # before the calls: no re-entry can run it twice
    for i: uint256 in range(len(targets), bound=MAX_ACTIONS):
        raw_call(targets[i], calldatas[i], value=values[i], revert_on_failure=True)
    log OperationExecuted(operation_id=operation, salt=salt)


@external
def cancel(operation: bytes32):
    """
    @notice Cancel a scheduled operation. Only the Governor (for its guardian).
    @param operation The operation id.
    """
    assert msg.sender == self.governor, "Timelock: only the governor"
    assert self.timestamps[operation] != 0, "Timelock: operation not pending"
    self.timestamps[operation] = 0
    log OperationCanceled(operation_id=operation)


@external
def set_minimum_delay(new_delay: uint256):
    """
    @notice Change the shortest delay. Only the Timelock itself, i.e. by an executed
            rule-change proposal.
    @param new_delay The new minimum delay, in seconds.
    """
    assert msg.sender == self, "Timelock: only through a proposal"
    assert new_delay >= MIN_DELAY_FLOOR, "Timelock: delay below the floor"
    log MinimumDelayChanged(old_delay=self.minimum_delay, new_delay=new_delay)
    self.minimum_delay = new_delay

