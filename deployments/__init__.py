"""Compile, deploy and find the cooperative's contracts on a network.

The lowest layer of the platform: `governance` and `cooperative` build on it, never the
other way round. It holds the one chain gateway (`deployments.chain`), because deploying
is the first thing that talks to a node.
"""
