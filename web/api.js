// The app's only way to the platform: the published GraphQL API, `POST /graphql` with the
// member's API key, exactly as an ERP calls it.

const KEY_NAME = "carriercoop.apiKey";

// sessionStorage, never localStorage: the key lives as long as this tab, and no longer.
export const session = {
  key: () => sessionStorage.getItem(KEY_NAME),
  signIn: (key) => sessionStorage.setItem(KEY_NAME, key),
  signOut: () => sessionStorage.removeItem(KEY_NAME),
};

const CODE_IN_WORDS = {
  UNAUTHENTICATED: "Not signed in",
  VALIDATION: "Please check the input",
  NOT_FOUND: "Not found",
  FORBIDDEN: "Not allowed",
  INVALID_STATE: "Not possible now",
  CHAIN_REVERT: "The contract refused",
  UNAVAILABLE: "The platform is unavailable, try again shortly",
  RATE_LIMITED: "Too many attempts, wait a few minutes",
  TIMEOUT: "The request took too long",
  SIGNATURE_REQUIRED: "Your own signature is required",
  INTERNAL: "The platform failed",
  WALLET: "Your wallet did not sign",
  PAGE: "This page failed",
};

// One problem ({code, message, field}) as a sentence.
export function inWords({ code, message, field }) {
  const words = CODE_IN_WORDS[code] ?? "Error";
  const where = field ? ` (in “${field}”)` : "";
  return `${words}: ${message}${where}. [${code}]`;
}

export class ApiError extends Error {
  constructor(problems) {
    super(problems.map(inWords).join(" "));
    this.problems = problems;
  }

  get code() {
    return this.problems[0]?.code;
  }
}

export async function graphql(query, variables = {}) {
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Authorization: `Bearer ${session.key() ?? ""}`,
      },
      body: JSON.stringify({ query, variables }),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError([{ code: "UNAVAILABLE", message: "the platform did not answer" }]);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: said below by its HTTP status
  }
  if (body?.errors?.length) {
    throw new ApiError(
      body.errors.map((e) => ({
        code: e.extensions?.code ?? "INTERNAL",
        message: e.message,
        field: e.extensions?.field,
      })),
    );
  }
  if (!response.ok || !body?.data) {
    const code = response.status >= 500 ? "UNAVAILABLE" : "VALIDATION";
    throw new ApiError([{ code, message: `the platform answered HTTP ${response.status}` }]);
  }
  return body.data;
}

// A mutation: its payload, or its payload's `errors` thrown as an ApiError.
export async function mutate(name, query, input) {
  const payload = (await graphql(query, { input }))[name];
  if (payload.errors?.length) throw new ApiError(payload.errors);
  return payload;
}
