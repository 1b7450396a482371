# pragma version 0.4.3
"""
@title CheckpointLog
@custom:contract-name CheckpointLog
@license Apache-2.0
@notice The cooperative chain's checkpoints, on the public anchor chain. The cooperative
        chain is private to its operator; what anyone can read is this log: for each
        checkpoint, a block of the cooperative chain (number, hash, state root) and the
        root of the Merkle tree (RFC 9162) over every document commitment up to that
        block, with the tree's size. A party proves a document with an inclusion proof,
        and one of its own records with a state proof (eth_getProof), against a checkpoint
        here; an auditor checks that the tree only grows (consistency proofs) and that
        the anchored block hashes are still the cooperative chain's.
@dev Deliberately not upgradeable and not governed: it lives on another chain than the
     cooperative's governance, and a log its poster could rewrite would prove nothing.
     Only the operator posts; each checkpoint must be later than the last and cover at
     least as many commitments, so the log itself shows a rollback attempt. One
     checkpoint costs the same gas however many documents it covers.
"""

struct Checkpoint:
    tree_size: uint256  # commitments covered, in chain order
    root: bytes32  # RFC 9162 Merkle tree hash of those commitments
    source_block: uint256  # the cooperative chain's block the tree was taken at
    source_block_hash: bytes32
    state_root: bytes32  # that block's state root, for state proofs of records
    posted_at: uint256  # this chain's timestamp when it was recorded


event CheckpointPosted:
    index: indexed(uint256)
    tree_size: uint256
    root: bytes32
    source_block: uint256
    source_block_hash: bytes32
    state_root: bytes32


# @notice The only address that posts checkpoints (the platform operator's key).
operator: public(immutable(address))
# @notice Checkpoints by index, from 0.
checkpoints: public(HashMap[uint256, Checkpoint])
# @notice How many checkpoints were posted.
checkpoint_count: public(uint256)


@deploy
def __init__(_operator: address):
    """
    @param _operator The address allowed to post checkpoints.
    """
    assert _operator != empty(address), "CheckpointLog: zero operator"
    operator = _operator


@external
def post(
    tree_size: uint256,
    root: bytes32,
    source_block: uint256,
    source_block_hash: bytes32,
    state_root: bytes32,
) -> uint256:
    """
    @notice Record a checkpoint of the cooperative chain.
    @param tree_size The number of commitments the tree covers.
    @param root The tree's RFC 9162 root (SHA-256 of the empty string for no commitments).
    @param source_block The cooperative chain's block number.
    @param source_block_hash That block's hash.
    @param state_root That block's state root.
    @return The checkpoint's index.
    """
    assert msg.sender == operator, "CheckpointLog: only the operator"
    assert source_block_hash != empty(bytes32), "CheckpointLog: empty block hash"
    assert state_root != empty(bytes32), "CheckpointLog: empty state root"
    index: uint256 = self.checkpoint_count
    if index > 0:
        last: Checkpoint = self.checkpoints[index - 1]
        assert source_block > last.source_block, "CheckpointLog: not after the last checkpoint"
        assert tree_size >= last.tree_size, "CheckpointLog: the tree cannot shrink"
    self.checkpoints[index] = Checkpoint(
        tree_size=tree_size,
        root=root,
        source_block=source_block,
        source_block_hash=source_block_hash,
        state_root=state_root,
        posted_at=block.timestamp,
    )
    self.checkpoint_count = index + 1
    log CheckpointPosted(
        index=index,
        tree_size=tree_size,
        root=root,
        source_block=source_block,
        source_block_hash=source_block_hash,
        state_root=state_root,
    )
    return index
