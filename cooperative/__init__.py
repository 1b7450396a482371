"""CarrierCoop: the platform — store, services, API and the `coop` command."""
