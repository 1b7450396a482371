// Compile Solidity with solc-js (the npm `solc` package), importing from node_modules
// (e.g. "@openzeppelin/contracts/..."). Used by deployments.compiler for every Solidity build.
// stdin:  {"sources": {"unit/Name.sol": "/abs/path/Name.sol"}, "contracts": ["Name", ...],
//          "nodeModules": "/abs/node_modules", "optimizerRuns": 200, "evmVersion": "prague"}
// stdout: {"Name": {"abi": [...], "bytecode": "hex", "runtimeBytecode": "hex", "source": "unit"}}
// A requested contract may live in an imported file (e.g. TimelockController); a name found
// in two files, or in none, is an error.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const request = JSON.parse(readFileSync(0, "utf8"));
const require = createRequire(path.join(request.nodeModules, "noop.js"));
const solc = require("solc");

const sources = {};
for (const [unit, file] of Object.entries(request.sources)) {
  sources[unit] = { content: readFileSync(file, "utf8") };
}
const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: request.optimizerRuns ?? 200 },
    evmVersion: request.evmVersion ?? "prague",
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
  },
};
const findImports = (file) => {
  try {
    return { contents: readFileSync(path.join(request.nodeModules, file), "utf8") };
  } catch (error) {
    return { error: `cannot read ${file}: ${error.message}` };
  }
};
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (output.errors || []).filter((e) => e.severity === "error");
if (errors.length) {
  process.stderr.write(errors.map((e) => e.formattedMessage).join("\n"));
  process.exit(1);
}
const result = {};
for (const name of request.contracts) {
  const found = Object.entries(output.contracts || {}).filter(([, byName]) => name in byName);
  if (found.length !== 1) {
    process.stderr.write(`contract ${name} found in ${found.length} source units, need exactly 1\n`);
    process.exit(1);
  }
  const [unit, byName] = found[0];
  const contract = byName[name];
  result[name] = {
    abi: contract.abi,
    bytecode: contract.evm.bytecode.object,
    runtimeBytecode: contract.evm.deployedBytecode.object,
    source: unit,
  };
}
process.stdout.write(JSON.stringify({ version: solc.version(), contracts: result }));
