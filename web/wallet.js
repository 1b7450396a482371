// Voting with the member's own key: the platform hands out the EIP-712 ballot (`ballot`),
// the member's wallet signs it (eth_signTypedData_v4), the platform relays the signature
// (`castVoteBySig`). The key never leaves the wallet. ethers, half a megabyte, is loaded
// the first time a member signs, not with the page.

import { ApiError } from "./api.js";

export function hasWallet() {
  return typeof window.ethereum?.request === "function";
}

function walletError(message) {
  return new ApiError([{ code: "WALLET", message }]);
}

// The ballot's signature by `voter`, checked before it is sent: the wallet must hold the
// signed-in member's key, and what it signed must be this ballot.
export async function signBallot(ballot, voter) {
  const { BrowserProvider, verifyTypedData } = await import("/vendor/ethers.min.js");
  const provider = new BrowserProvider(window.ethereum);
  let accounts;
  try {
    accounts = await provider.send("eth_requestAccounts", []);
  } catch (error) {
    throw walletError(error.shortMessage ?? error.message ?? "it refused to connect");
  }
  if (!accounts.some((a) => a.toLowerCase() === voter.toLowerCase())) {
    throw walletError(`it does not hold the key of ${voter}, the member you are signed in as`);
  }
  const signer = await provider.getSigner(voter);
  const types = { ...ballot.types };
  delete types.EIP712Domain; // ethers derives the domain's type itself
  let signature;
  try {
    signature = await signer.signTypedData(ballot.domain, types, ballot.message);
  } catch (error) {
    throw walletError(error.shortMessage ?? error.message ?? "the signature was refused");
  }
  const signedBy = verifyTypedData(ballot.domain, types, ballot.message, signature);
  if (signedBy.toLowerCase() !== voter.toLowerCase()) {
    throw walletError(`the signature is by ${signedBy}, not by ${voter}`);
  }
  return signature;
}
