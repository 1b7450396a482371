# pragma version 0.4.3
"""
@title Anchor
@custom:contract-name Anchor
@license Apache-2.0
@notice Checkpoints of the cooperative's document commitments: the operator posts the
        Merkle root of all commitments (and the cooperative chain's block it was taken
        at), so an auditor can verify a member's document against an anchored root.
@dev A cooperative module: it runs behind an OpenZeppelin BeaconProxy, so its state is
     set by `initialize()` instead of a constructor. The implementation contract itself is
     locked at deployment so nobody can initialize it directly. New versions append
     storage variables only (checked by `coop modules check`).
"""

VERSION: constant(uint256) = 1


struct Checkpoint:
    root: bytes32  # Merkle root of the document commitments
    source_block: uint256  # the cooperative chain's block the root was taken at
    source_block_hash: bytes32
    posted_at: uint256  # timestamp of this chain's block that recorded it


event Initialized:
    operator: indexed(address)


event CheckpointPosted:
    index: indexed(uint256)
    root: indexed(bytes32)
    source_block: uint256
    source_block_hash: bytes32


# @notice True once the proxy's storage was initialized (and, on the implementation, at deployment).
initialized: public(bool)
# @notice The platform operator's address, the only one allowed to post checkpoints.
operator: public(address)
checkpoints: public(HashMap[uint256, Checkpoint])
checkpoint_count: public(uint256)


@deploy
def __init__():
    # Lock the implementation: only proxies, with their own storage, get initialized.
    self.initialized = True


@external
def initialize(_operator: address):
    """
    @notice Set up a proxy's storage. Called once, by the proxy's constructor.
    @param _operator The address allowed to post checkpoints.
    """
    assert not self.initialized, "Anchor: already initialized"
    assert _operator != empty(address), "Anchor: zero operator"
    self.initialized = True
    self.operator = _operator
    log Initialized(operator=_operator)


@external
@pure
def version() -> uint256:
    """
    @notice The implementation's version.
    @return The version number.
    """
    return VERSION


@external
def post_checkpoint(root: bytes32, source_block: uint256, source_block_hash: bytes32) -> uint256:
    """
    @notice Anchor a Merkle root of document commitments.
    @param root The Merkle root.
    @param source_block The cooperative chain's block number the root was taken at.
    @param source_block_hash That block's hash.
    @return The checkpoint's index.
    """
    assert msg.sender == self.operator, "Anchor: only the operator"
    assert root != empty(bytes32), "Anchor: empty root"
    index: uint256 = self.checkpoint_count
    self.checkpoints[index] = Checkpoint(
        root=root, source_block=source_block, source_block_hash=source_block_hash,
        posted_at=block.timestamp,
    )
    self.checkpoint_count = index + 1
    log CheckpointPosted(index=index, root=root, source_block=source_block, source_block_hash=source_block_hash)
    return index
