// Hardhat's node, a second EVM implementation for the tests (tests/hardhat.py starts it:
// `hardhat --config scripts/hardhat/hardhat.config.cjs node --hostname 127.0.0.1 --port N`).
module.exports = {
  networks: {
    hardhat: {
      // 31337, the local chain's; the tests start an anchor chain's node with 31338
      chainId: Number(process.env.HARDHAT_CHAIN_ID || 31337),
      // What Vyper 0.4.3 and solc target (deployments/compiler.py); Hardhat 2.29's default,
      // osaka, caps a transaction's gas at 2^24, which anvil's prague chain does not.
      hardfork: "prague",
      mining: { auto: true, interval: 0 }, // a block per transaction, on arrival
      // A transaction that reverts is mined with status 0 and its hash answered, as on
      // anvil and any network (Hardhat otherwise answers eth_sendRawTransaction an error).
      throwOnTransactionFailures: false,
      // The platform funds its own accounts (hardhat_setBalance): one is enough.
      accounts: { count: 1 },
    },
  },
};
