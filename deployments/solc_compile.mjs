// Compile OpenZeppelin contracts with solc-js (the npm `solc` package).
// stdin:  {"sources": {"Name": "@openzeppelin/contracts/...sol"}, "nodeModules": "/abs/node_modules"}
// stdout: {"Name": {"abi": [...], "bytecode": "hex", "runtimeBytecode": "hex"}}
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const request = JSON.parse(readFileSync(0, "utf8"));
const require = createRequire(path.join(request.nodeModules, "noop.js"));
const solc = require("solc");

const sources = {};
for (const file of Object.values(request.sources)) {
  sources[file] = { content: readFileSync(path.join(request.nodeModules, file), "utf8") };
}
const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "prague",
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
for (const [name, file] of Object.entries(request.sources)) {
  const contract = output.contracts[file][name];
  result[name] = {
    abi: contract.abi,
    bytecode: contract.evm.bytecode.object,
    runtimeBytecode: contract.evm.deployedBytecode.object,
  };
}
process.stdout.write(JSON.stringify(result));
