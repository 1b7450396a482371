"""Configuration, from `COOP_*` environment variables (or a `.env` file)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COOP_", env_file=".env", extra="ignore")

    data_dir: Path = Path(".coop-data")
    """Chain state (embedded node), SQLite database, keystore secret, local deployment records."""

    rpc_url: str | None = None
    """An EVM JSON-RPC node; unset = start the embedded anvil node."""

    network: str | None = None
    """Name of a shared network; its records go to deployments/records/<network>.json."""

    anchor_rpc_url: str | None = None
    """The public anchor chain's JSON-RPC; unset = a second embedded node (`<data-dir>/anchor`)."""

    anchor_every_seconds: float = 60.0
    """The server posts a checkpoint this often while the cooperative chain moves, ..."""

    anchor_every_blocks: int = 250
    """... or sooner, once the chain grew this many blocks past the last checkpoint (under
    the embedded node's window of 500 blocks of past states, so state proofs stay possible)."""

    clock_tick_seconds: float = 2.0
    """The embedded node seals blocks only when the platform sends: once its chain has been
    idle this long, the server seals an empty block, so the contracts' clock follows the
    wall clock (a vote ends, a timelock passes, with nobody sending). 0 = never."""

    database_url: str | None = None
    """SQLAlchemy URL; unset = SQLite (WAL) in the data directory."""

    secret: SecretStr | None = None
    """Encrypts the custodial keystore; unset = a secret generated into the data directory."""

    cors_origins: list[str] = []
    """Origins whose browser pages may call the API (JSON list); none by default."""

    host: str = "127.0.0.1"
    port: int = 8000
    environment: Literal["development", "production"] = "production"
    """GraphiQL is served in development (and in demo mode) only."""

    demo_voting_period: int = 60
    """Seconds of voting in demo mode (`coop serve --demo`)."""

    demo_timelock_delay: int = 30
    """Seconds between queueing and execution in demo mode."""

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'coop.db').resolve()}"

    @property
    def network_name(self) -> str:
        return self.network or "local"

    @property
    def records_in_data_dir(self) -> bool:
        """Throwaway chains keep their deployment records in the data directory."""
        return self.network is None
