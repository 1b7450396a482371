"""The HTTP API: FastAPI with Strawberry GraphQL at /graphql and /health."""
