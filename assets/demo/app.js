// The demo page's script: sign in, call the API through a fetch wrapper that
// refreshes on 401, and show every step on a timeline.
//
// The access token lives in `accessToken` below and nowhere else: not in
// Web Storage, not in the DOM. The refresh token is
// never seen by this script at all: the server keeps it in an HttpOnly
// cookie that the browser sends to /api/refresh and /api/logout only.

let accessToken = null;
// The refresh in flight, if any: every call that meets a 401 meanwhile
// waits for this one instead of starting its own.
let refreshing = null;

const $ = (id) => document.getElementById(id);

// ---- the fetch wrapper ----------------------------------------------------

/** Sends one request with the current access token, and logs it. */
async function send(method, path, kind = 'request') {
  const token = accessToken;
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  log(kind, `${method} ${path} ${token ? `with access token ${tag(token)}` : 'without an access token'}`);

  const response = await fetch(path, { method, headers, credentials: 'same-origin' });
  if (response.status === 401) {
    log('401', `${path}: ${reason(response)}`);
  } else {
    log(response.ok ? 'response' : 'error', `${response.status} from ${path}`);
  }
  return { response, token };
}

/**
 * A request to the API: on 401, one refresh (shared with every other call
 * that is waiting for one), then one retry with the new access token.
 */
async function api(method, path) {
  const { response, token } = await send(method, path);
  if (response.status !== 401) return response;

  // A call that failed with a token already replaced retries at once; one
  // that failed after the session ended does not retry at all.
  const renewed = accessToken === token ? await refresh() : accessToken !== null;
  if (!renewed) return response;
  return (await send(method, path, 'retry')).response;
}

/** Starts a refresh, or joins the one already in flight. */
function refresh(kind = 'refresh') {
  if (refreshing) {
    log('wait', 'a refresh is already in flight: waiting for it');
    return refreshing;
  }
  refreshing = runRefresh(kind).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function runRefresh(kind) {
  log(kind, kind === 'resume'
    ? 'POST /api/refresh: is there a session in this browser\'s cookie?'
    : 'POST /api/refresh, empty body: the browser adds the HttpOnly cookie');

  let response;
  try {
    response = await fetch('/api/refresh', { method: 'POST', credentials: 'same-origin' });
  } catch (err) {
    log('error', `refresh failed in transport (${err.message}); the token is kept`);
    return false;
  }

  if (response.ok) {
    // The body repeats the refresh token; this page drops it on purpose.
    const { accessToken: fresh } = await response.json();
    const before = accessToken;
    setAccessToken(fresh);
    setState('signed-in');
    log('rotation', `new access token ${tag(fresh)}${before ? ` replaces ${tag(before)}` : ''}, `
      + `valid until ${clock(claims(fresh).exp * 1000)}; the cookie now holds a new refresh token`);
    return true;
  }

  const { error = 'no error code' } = await response.json().catch(() => ({}));
  if (kind === 'resume') {
    log('resume', `no session to resume (${response.status} ${error})`);
    setState('signed-out');
    return false;
  }
  if ([400, 401, 403].includes(response.status)) {
    setAccessToken(null);
    setState('ended');
    log('ended', `refresh refused (${response.status} ${error}): the session has ended`);
    return false;
  }
  log('error', `refresh answered ${response.status}; the token is kept`);
  return false;
}

// ---- the buttons ----------------------------------------------------------

async function signIn(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const credentials = { username: form.get('username'), password: form.get('password') };
  log('request', `POST /api/login as ${credentials.username}`);

  const response = await fetch('/api/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(credentials),
    credentials: 'same-origin',
  });
  if (!response.ok) {
    log('error', `${response.status}: sign-in refused`);
    return;
  }
  // Only the access token is kept; the refresh token arrives in the cookie.
  const { accessToken: token } = await response.json();
  setAccessToken(token);
  setState('signed-in');
  log('signin', `signed in: session ${short(claims(token).sid)}, access token ${tag(token)}, `
    + 'refresh token in an HttpOnly cookie');
}

async function callMe() {
  const result = $('result');
  delete result.dataset.status;
  result.textContent = 'calling…';

  const response = await api('GET', '/api/me');
  result.dataset.status = response.status;
  if (response.ok) {
    const me = await response.json();
    result.textContent = `200: user ${me.userId}, session ${short(me.sessionId)}`;
  } else {
    const why = response.status === 401 ? reason(response) : 'refused';
    result.textContent = `${response.status}: ${why}`;
  }
}

async function logOut(everywhere) {
  const path = everywhere ? '/api/logout-all' : '/api/logout';
  const response = await api('POST', path);
  if (response.status !== 204) return;

  setAccessToken(null);
  setState('signed-out');
  log('logout', everywhere
    ? 'every session of this user is revoked, in every tab and browser'
    : 'this session is revoked and its refresh cookie cleared');
}

// ---- what the page shows --------------------------------------------------

function setAccessToken(token) {
  accessToken = token;
  const current = token && claims(token);
  $('user').textContent = current ? current.sub : '–';
  $('sid').textContent = current ? short(current.sid) : '–';
  $('jti').textContent = current ? tag(token) : '–';
  tick();
}

function setState(state) {
  document.body.dataset.state = state;
  const signedIn = state === 'signed-in';
  $('signin').hidden = signedIn;
  $('signed-in').hidden = !signedIn;
  $('ended').hidden = state !== 'ended';
  $('logout').disabled = !signedIn;
  $('logout-all').disabled = !signedIn;
  if (!signedIn) $('result').textContent = '';
}

/** Redraws the countdown from the access token's `exp`. */
function tick() {
  const bar = $('bar');
  const label = $('remaining');
  $('cookie').textContent = JSON.stringify(document.cookie);
  if (!accessToken) {
    bar.style.width = '0%';
    label.textContent = 'no access token';
    return;
  }

  const { iat, exp } = claims(accessToken);
  const left = exp * 1000 - Date.now();
  const share = Math.max(0, Math.min(1, left / ((exp - iat) * 1000)));
  bar.style.width = `${(share * 100).toFixed(1)}%`;
  bar.dataset.level = share > 0.5 ? 'high' : share > 0.2 ? 'mid' : 'low';
  label.textContent = left > 0
    ? `access token: ${(left / 1000).toFixed(1)} s left`
    : `access token expired ${(-left / 1000).toFixed(1)} s ago; `
      + 'the server allows a few seconds of clock skew, then answers 401';
}

function log(kind, text) {
  const item = document.createElement('li');
  item.dataset.kind = kind;
  const time = document.createElement('time');
  time.textContent = clock(Date.now());
  const badge = document.createElement('span');
  badge.className = 'kind';
  badge.textContent = kind;
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = text;
  item.append(time, badge, body);

  const timeline = $('timeline');
  timeline.append(item);
  while (timeline.children.length > 200) timeline.firstElementChild.remove();
  item.scrollIntoView({ block: 'nearest' });
}

// ---- small helpers --------------------------------------------------------

/** The claims of a JWT, read without verifying (the server verifies). */
function claims(token) {
  const base64 = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** A short name for a token: the start of its `jti`, never the token. */
const tag = (token) => `#${short(claims(token).jti)}`;
const short = (id) => String(id).slice(0, 8);

/** The `error_description` of a 401's `WWW-Authenticate`. */
function reason(response) {
  const header = response.headers.get('www-authenticate') || '';
  const description = /error_description="([^"]*)"/.exec(header);
  return description ? description[1] : 'no access token';
}

function clock(ms) {
  const date = new Date(ms);
  const pad = (n, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
    + `.${pad(date.getMilliseconds(), 3)}`;
}

// ---- start ----------------------------------------------------------------

/** A handler that logs a failure instead of leaving it unhandled. */
const guarded = (handler) => (event) => handler(event).catch((err) => log('error', err.message));

$('signin').addEventListener('submit', guarded(signIn));
$('call').addEventListener('click', guarded(callMe));
$('logout').addEventListener('click', guarded(() => logOut(false)));
$('logout-all').addEventListener('click', guarded(() => logOut(true)));
$('clear').addEventListener('click', () => $('timeline').replaceChildren());
setInterval(tick, 100);

// Another tab, or this one before a reload, may have signed in already: the
// cookie would then hold a refresh token that gives this tab its own access
// token for the same session.
setState('starting');
refresh('resume');
