"""The contracts these tests deploy (compiled by boa from contracts/) are byte for byte the
artifacts the platform deploys (compiled by `deployments.compiler`)."""

import boa


def test_deployed_runtime_code_is_the_projects_artifact(
    compiler, membership, registry, anchor_implementation
):
    # Vyper appends the values of immutables (Membership.timelock, ModuleRegistry.owner),
    # one word each, after the runtime code
    for name, contract, immutable_words in [
        ("Membership", membership, 1),
        ("ModuleRegistry", registry, 1),
        ("Anchor", anchor_implementation, 0),
    ]:
        on_chain = boa.env.get_code(contract.address)
        runtime = bytes.fromhex(compiler.vyper(name).runtime_bytecode.removeprefix("0x"))
        assert on_chain[: len(runtime)] == runtime, name
        assert len(on_chain) == len(runtime) + 32 * immutable_words, name


def test_governance_runtime_code_is_the_projects_artifact(compiler, system):
    # immutables: SlaTemplates.timelock; Governor's membership, timelock, sla_templates,
    # module_registry, cached chain id and cached domain separator
    for name, contract, immutable_words in [
        ("Timelock", system.timelock, 0),
        ("SlaTemplates", system.sla_templates, 1),
        ("Governor", system.governor, 6),
        ("Membership", system.membership, 1),
    ]:
        on_chain = boa.env.get_code(contract.address)
        runtime = bytes.fromhex(compiler.vyper(name).runtime_bytecode.removeprefix("0x"))
        assert on_chain[: len(runtime)] == runtime, name
        assert len(on_chain) == len(runtime) + 32 * immutable_words, name
