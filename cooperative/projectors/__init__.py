"""Projectors: the only writers of the read models.

One projector per module turns its contract's events, with the private documents the
outbox kept for their transactions, into the module's records and its parties' feed
entries. Two callers apply them, through `Projection`:

- a mutation, to its own receipts before it answers (read-your-writes): the records only;
- the chain follower (cooperative.indexer), to every block in chain order: every feed
  entry, and the records of each transaction no mutation projected (another process's, a
  relayed ballot, a request that died after its transaction was sent).

So each transaction's records are written once. A mutation marks the transactions it
projected (ProjectedTransaction, in its own store transaction); the follower never
applies a block holding a transaction of a request still running in this process
(cooperative.outbox.running_transactions), so the two never race for one transaction.
Every record's time is its block's, so rebuilding the read models from the chain
(`coop reindex`) gives the same rows.
"""

from cooperative.projectors.base import CURSOR, Documents, Event, Projector, Run
from cooperative.projectors.projection import Projection

__all__ = ["CURSOR", "Documents", "Event", "Projection", "Projector", "Run"]
