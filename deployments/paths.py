"""Where the project's sources and tools live, found from this package's own location."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = PROJECT_ROOT / "contracts"
OPERATIONS_DIR = PROJECT_ROOT / "graphql" / "operations"  # the ready operations
NODE_MODULES = PROJECT_ROOT / "node_modules"
NAMED_RECORDS_DIR = Path(__file__).resolve().parent / "records"
