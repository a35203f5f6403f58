/**
 * The console's only way to the service: its JSON API with the operator's bearer token. The token
 * is kept in sessionStorage only, so it is gone when the tab closes.
 */

const TOKEN_KEY = 'order-console-token';

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** An answer other than 2xx, with its problem+json (RFC 9457) when the service sent one. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `The service answered ${status}`);
    this.status = status;
    this.problem = problem ?? {};
    this.detail = this.message;
  }
}

/** Called when the service refuses the token (401), to send the operator back to sign in. */
let onUnauthorized = () => {};
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/**
 * One request: resolves { data, headers, status }, or rejects with ApiError. `token` overrides the
 * session's (signing in tries a token before keeping it).
 */
export async function request(path, { method = 'GET', body, headers = {}, token } = {}) {
  const bearer = token ?? session.token;
  const init = {
    method,
    headers: {
      accept: 'application/json, application/problem+json',
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    cache: 'no-store',
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text };
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && token === undefined) onUnauthorized(error);
    throw error;
  }
  return { data, headers: response.headers, status: response.status };
}

/** GET `path` and return its JSON. */
export async function get(path) {
  return (await request(path)).data;
}

/** A query string of the values that are set. */
export function query(values) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}
