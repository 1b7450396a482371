"""The cooperative's DAO: membership, proposals, votes, timelock, SLA templates and
governed module upgrades. Builds on `deployments`; `cooperative` builds on it."""
