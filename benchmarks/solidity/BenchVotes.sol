// SPDX-License-Identifier: Apache-2.0
// Benchmark only (benchmarks/governance_gas.py): the voting token of the OpenZeppelin 5
// reference governor. Each holder gets exactly one whole token, so one holder = one vote,
// like the cooperative's one member, one vote. Nothing here is deployed by the platform.
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

contract BenchVotes is ERC20, ERC20Permit, ERC20Votes {
    constructor(address[] memory holders) ERC20("Bench Votes", "BVOTE") ERC20Permit("Bench Votes") {
        for (uint256 i = 0; i < holders.length; ++i) {
            _mint(holders[i], 1 ether);
        }
    }

    // The overrides Solidity requires when ERC20, ERC20Permit and ERC20Votes are combined.

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }

    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }
}
