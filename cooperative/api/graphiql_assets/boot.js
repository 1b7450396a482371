// Starts GraphiQL on the page at /graphql; the scripts before this one define React,
// ReactDOM and GraphiQL. A file, not an inline script: the page's CSP runs only scripts
// from this server.
"use strict";

(function () {
  const url = window.location.origin + window.location.pathname;

  // An API key must not stay in the browser. shouldPersistHeaders: false keeps GraphiQL
  // from saving the Headers tab, but its history ("graphiql:queries", "graphiql:favorites")
  // records the headers of every query run, whatever that says: they are dropped from
  // everything GraphiQL writes that can hold them.
  const HOLDS_HEADERS = new Set(["graphiql:queries", "graphiql:favorites", "graphiql:tabState"]);
  const withoutHeaders = (value) =>
    JSON.stringify(JSON.parse(value), (name, item) => (name === "headers" ? null : item));
  const graphiqlKeys = () => Object.keys(localStorage).filter((key) => key.startsWith("graphiql:"));
  const storage = {
    getItem: (key) => localStorage.getItem(key),
    setItem: (key, value) =>
      localStorage.setItem(key, HOLDS_HEADERS.has(key) ? withoutHeaders(value) : value),
    removeItem: (key) => localStorage.removeItem(key),
    clear: () => graphiqlKeys().forEach((key) => localStorage.removeItem(key)),
    get length() {
      return graphiqlKeys().length;
    },
  };
  // What an IDE page that persisted headers (Strawberry's did) left on this origin.
  localStorage.removeItem("graphiql:headers");
  for (const key of HOLDS_HEADERS) {
    const value = localStorage.getItem(key);
    if (value !== null) {
      try {
        storage.setItem(key, value);
      } catch {
        localStorage.removeItem(key); // not JSON: nothing worth keeping
      }
    }
  }

  const DEFAULT_QUERY = `# CarrierCoop's GraphQL API. Your API key goes in the Headers tab
# below: {"Authorization": "Bearer <key>"}. Run with ▶ (Ctrl-Enter).
{
  me {
    role
  }
}
`;

  // The key in a headers object or the Headers tab's text; "" when there is none yet.
  function apiKey(headers) {
    if (typeof headers === "string") {
      try {
        headers = JSON.parse(headers);
      } catch {
        return "";
      }
    }
    const name = Object.keys(headers || {}).find((key) => key.toLowerCase() === "authorization");
    return name ? String(headers[name]).replace(/^Bearer\s*/i, "").trim() : "";
  }

  // Without a key the server only answers 401: say what to do instead of asking it.
  const NO_KEY = {
    errors: [{ message: 'No API key yet: paste yours in the Headers tab, after "Bearer ".' }],
  };
  const send = GraphiQL.createFetcher({ url });
  const newFetcher = () => (params, options) =>
    apiKey(options && options.headers) ? send(params, options) : Promise.resolve(NO_KEY);

  // GraphiQL fetches the schema (docs, completion) when it starts and when its fetcher
  // changes: a new fetcher once a new key is pasted, after a pause (a key typed by hand
  // would otherwise cost a failed authentication per keystroke, and they lock the key).
  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  let lastKey = "";
  let pause;
  function onEditHeaders(text) {
    clearTimeout(pause);
    pause = setTimeout(() => {
      const key = apiKey(text);
      if (key && key !== lastKey) {
        lastKey = key;
        render();
      }
    }, 500);
  }
  function render() {
    root.render(
      React.createElement(GraphiQL, {
        fetcher: newFetcher(),
        storage,
        defaultQuery: DEFAULT_QUERY,
        defaultHeaders: '{"Authorization": "Bearer "}',
        defaultEditorToolsVisibility: "headers",
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: false, // also hides the "persist headers" setting
        onEditHeaders,
      }),
    );
  }
  render();
})();
