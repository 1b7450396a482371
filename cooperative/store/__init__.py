"""The SQL store: private documents, read models, API keys and the custodial keystore."""
