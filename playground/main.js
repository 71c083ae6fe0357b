// The miniauth playground: the web build of the npm package (served by the
// reference server at ./pkg/) driving this same server, which runs in
// WeChat-simulator mode. Every login, bind, refresh and verification below
// goes through the package; the page only does the I/O a Mini Program would
// get from WeChat (the simulator's /sim/ endpoints) and draws what happens.

import { ready, AuthClient, createRemoteJwks, jwtVerify, decodeJwt } from './pkg/web/index.js';

/** How long before expiry the client refreshes (AuthClient's `refreshMargin`, ms). */
const REFRESH_MARGIN = 60_000;
/** The simulated Mini Program's AppID: the `aud` of id_tokens in simulator mode. */
const SIMULATOR_AUDIENCE = 'wx_simulator_appid';
const FLOW_NAMES = {
  wechat_phone: 'WeChat phone number',
  sms_code: 'SMS code',
  email_code: 'email code',
  wechat_code: 'code in WeChat chat',
  password: 'username and password',
  register: 'register',
};

const $ = (id) => document.getElementById(id);
let client;
let failNextRefresh = false;
const watched = new Set();

// ---- the fetch the client uses: the real one, unless a failure is armed ----

/**
 * `fetch` for AuthClient. When "Make the next refresh fail" is armed, the
 * next POST /v1/session/refresh rejects as a lost connection would, so the
 * client's real retry path runs (REFRESH_FAILED, then a retry with backoff).
 */
function playgroundFetch(url, init = {}) {
  const path = new URL(url, location.href).pathname;
  if (failNextRefresh && path === '/v1/session/refresh' && (init.method || 'GET').toUpperCase() === 'POST') {
    setFailNext(false);
    return Promise.reject(new TypeError('Failed to fetch (the playground dropped this refresh)'));
  }
  return fetch(url, init);
}

function setFailNext(on) {
  failNextRefresh = on;
  $('fail-next').setAttribute('aria-pressed', String(on));
  $('fail-next').textContent = on ? 'Next refresh will fail' : 'Make the next refresh fail';
}

// ---- drawing ----

function show(view, status) {
  for (const id of ['signed-out', 'bind', 'signed-in']) $(id).hidden = id !== view;
  document.body.dataset.view = view || 'error';
  if (status !== undefined) $('status').textContent = status;
}

function errorText(error) {
  // MiniAuthError has a stable `code`; ERR_SERVER also carries the server's `error`.
  const code = error.code ? `${error.code}${error.error ? ` (${error.error})` : ''}: ` : '';
  return `${code}${error.message}`;
}

function showError(error) {
  $('error').hidden = error === null;
  $('error').textContent = error === null ? '' : errorText(error);
  if (error !== null) console.error(error);
}

async function drawSession() {
  const claims = await client.getClaims();
  if (!claims) {
    $('claims').textContent = '—';
    $('raw-token').textContent = '—';
    return;
  }
  $('claims').textContent = JSON.stringify(claims, null, 2);
  // getIdToken() returns the current token (refreshing first when one is due).
  $('raw-token').textContent = await client.getIdToken();
  $('sub').textContent = claims.sub;
  const who = [claims.name, claims.nickname, claims.preferred_username, claims.phone_number, claims.email].filter(Boolean);
  $('who').textContent = who.length ? who.join(' · ') : '';
}

function showSignedIn(status = 'SUCCESS') {
  show('signed-in', `${status}: signed in.`);
  return drawSession();
}

function showBind(result) {
  const flows = result.flows || [];
  $('login-status').textContent = result.status;
  $('flows').textContent = flows.map((flow) => FLOW_NAMES[flow] || flow).join(', ') || 'none';
  for (const form of document.querySelectorAll('.flow')) {
    form.hidden = !form.dataset.flow.split(' ').some((flow) => flows.includes(flow));
  }
  $('channel').querySelector('[value=sms]').disabled = !flows.includes('sms_code');
  $('channel').querySelector('[value=email]').disabled = !flows.includes('email_code');
  $('channel').value = flows.includes('sms_code') ? 'sms' : 'email';
  $('code').value = '';
  show('bind', `${result.status}: this WeChat user is bound to nobody yet.`);
}

function showResult(result) {
  if (result.status === 'SUCCESS') return showSignedIn();
  showBind(result);
}

function logEvent(event, details = {}) {
  const item = document.createElement('li');
  item.dataset.event = event;
  const time = document.createElement('time');
  time.textContent = clock(new Date());
  const name = document.createElement('strong');
  name.textContent = event;
  const detail = document.createElement('span');
  detail.className = 'detail';
  if (details.error) detail.textContent = errorText(details.error);
  else if (details.claims) detail.textContent = `sub ${details.claims.sub}, exp ${clock(new Date(details.claims.exp * 1000))}`;
  item.append(time, ' ', name, ' ', detail);
  $('events').prepend(item);
}

/** hh:mm:ss, local time. */
function clock(date) {
  return date.toTimeString().slice(0, 8);
}

function formatSeconds(ms) {
  if (ms <= 0) return '0:00';
  const s = Math.ceil(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

async function tick() {
  const claims = client && (await client.getClaims());
  if (!claims) {
    $('countdown').textContent = '—';
    $('refresh-countdown').textContent = '—';
    return;
  }
  const left = claims.exp * 1000 - Date.now();
  $('countdown').textContent = left > 0 ? formatSeconds(left) : 'expired';
  $('refresh-countdown').textContent = formatSeconds(left - REFRESH_MARGIN);
}

// ---- the simulator: what wx.login() and getPhoneNumber would give ----

async function simulator(path, body) {
  const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok || typeof answer.code !== 'string') {
    throw new Error(`POST ${path} answered HTTP ${response.status}${answer.message ? `: ${answer.message}` : ''}`);
  }
  return answer.code;
}

async function pollOutbox() {
  if (watched.size === 0) return;
  const messages = [];
  for (const to of watched) {
    const response = await fetch(`/sim/outbox?to=${encodeURIComponent(to)}`);
    if (response.ok) messages.push(...(await response.json()));
  }
  messages.sort((a, b) => b.sent_at - a.sent_at);
  const items = messages.map((message) => {
    const item = document.createElement('li');
    item.dataset.to = message.to;
    item.dataset.code = message.code;
    const head = document.createElement('span');
    head.className = 'label';
    head.textContent = `${message.channel.toUpperCase()} to ${message.to} at ${clock(new Date(message.sent_at * 1000))}`;
    const text = document.createElement('div');
    text.textContent = message.text;
    item.append(head, text);
    return item;
  });
  $('outbox').replaceChildren(...items);
}

// ---- actions ----

async function busy(action) {
  const buttons = [...document.querySelectorAll('.phone button')];
  for (const button of buttons) button.disabled = true;
  showError(null);
  try {
    await action();
  } catch (error) {
    showError(error);
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

function on(id, type, handler) {
  $(id).addEventListener(type, (event) => {
    event.preventDefault();
    busy(handler);
  });
}

on('login-form', 'submit', async () => {
  const code = await simulator('/sim/wx/login', { openid: $('openid').value.trim() });
  showResult(await client.loginWithWechat({ code }));
});

$('new-user').addEventListener('click', () => {
  $('openid').value = `o_${Math.random().toString(36).slice(2, 10)}`;
});

// Chat sign-in: the wait for the chat message is not busy(), so that the
// simulated chat's button stays usable meanwhile.
on('chat-form', 'submit', async () => {
  const { challenge, outcome } = await client.loginWithChat({ bot: 'simulator' });
  $('challenge').textContent = challenge;
  $('chat-challenge').hidden = false;
  show('signed-out', `Waiting for ${challenge} in the chat…`);
  outcome
    .then(showResult, showError)
    .finally(() => {
      $('chat-challenge').hidden = true;
    });
});

on('chat-send', 'click', async () => {
  const response = await fetch('/sim/chat/say', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ contact_id: $('chat-contact').value.trim(), text: $('challenge').textContent }),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`POST /sim/chat/say answered HTTP ${response.status}${answer.message ? `: ${answer.message}` : ''}`);
  if (!answer.matched) throw new Error('the bot did not take it: the challenge expired or was taken');
});

on('send-code', 'click', async () => {
  const channel = $('channel').value;
  const to = $('to').value.trim();
  await client.sendVerifyCode({ channel, to });
  watched.add(to);
  await pollOutbox();
  $('status').textContent = `Code sent to ${to}: read it in the outbox.`;
  $('code').focus();
});

on('code-form', 'submit', async () => {
  showResult(await client.bindWithVerifyCode({ channel: $('channel').value, to: $('to').value.trim(), code: $('code').value.trim() }));
});

on('phone-form', 'submit', async () => {
  const code = await simulator('/sim/wx/phone', { phone: $('wx-phone').value.trim() });
  showResult(await client.bindWithWechatPhone({ code }));
});

on('password-form', 'submit', async () => {
  showResult(await client.bindWithPassword({ username: $('username').value.trim(), password: $('password').value }));
});

on('register-form', 'submit', async () => {
  const name = $('name').value.trim();
  showResult(await client.register(name ? { name } : {}));
});

on('profile-form', 'submit', async () => {
  const nickname = $('nickname').value.trim();
  // Saved, then the id_token refreshed to carry it (USER_UPDATED).
  await client.updateProfile({ nickname: nickname || null });
  $('status').textContent = nickname ? `Nickname saved: ${nickname}.` : 'Nickname cleared.';
});

on('call-api', 'click', async () => {
  // This page's origin is in tokenOrigins: auth.fetch adds the Bearer id_token.
  const response = await client.fetch('/v1/userinfo');
  $('api-answer').hidden = false;
  $('api-answer').textContent = `GET /v1/userinfo → ${response.status}\n${JSON.stringify(await response.json(), null, 2)}`;
});

on('cancel', 'click', () => client.logout());
on('logout', 'click', () => client.logout());

on('refresh', 'click', async () => {
  try {
    await client.refresh();
    $('status').textContent = 'Refreshed.';
  } catch (error) {
    // The client keeps the session and retries on its own: watch the events.
    $('status').textContent = `Refresh failed (${error.code}); the client retries with backoff.`;
  }
});

$('fail-next').addEventListener('click', () => setFailNext(!failNextRefresh));

on('paste-current', 'click', async () => {
  $('verify-input').value = await client.getIdToken();
});

let jwks;
let issuer;
$('verify-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const result = $('verify-result');
  const token = $('verify-input').value.trim();
  try {
    if (!issuer) issuer = (await (await fetch('/.well-known/openid-configuration')).json()).issuer;
    jwks ||= createRemoteJwks(new URL('/.well-known/jwks.json', location.href).href);
    const { header, claims } = await jwtVerify(token, jwks, { issuer, audience: SIMULATOR_AUDIENCE });
    result.className = 'ok';
    result.textContent = `Valid: signed by kid ${header.kid} (${header.alg})\n${JSON.stringify(claims, null, 2)}`;
  } catch (error) {
    result.className = 'bad';
    let header = '';
    try {
      header = `\nclaims as decoded: ${JSON.stringify(decodeJwt(token))}`;
    } catch {
      // Not even a JWT.
    }
    result.textContent = `${error.code || error.name}\n${error.message}${header}`;
  }
  result.dataset.code = result.className === 'ok' ? 'OK' : String((/^\S+/.exec(result.textContent) || [''])[0]);
  result.hidden = false;
});

// ---- start ----

async function main() {
  await ready;
  $('margin').textContent = `${REFRESH_MARGIN / 1000} s`;
  client = new AuthClient({
    baseUrl: location.origin,
    clientId: 'playground',
    fetch: playgroundFetch,
    refreshMargin: REFRESH_MARGIN,
    tokenOrigins: [location.origin],
  });
  client.onAuthStateChange((event, details) => {
    logEvent(event, details);
    if (event === 'SIGNED_IN' || event === 'TOKEN_REFRESHED' || event === 'USER_UPDATED') drawSession().catch(showError);
    if (event === 'SIGNED_OUT') {
      show('signed-out', 'Signed out.');
      drawSession().catch(showError);
    }
  });
  await client.ready;
  if (await client.getClaims()) await showSignedIn('Restored');
  else show('signed-out', 'Not signed in.');
  setInterval(() => tick().catch(() => {}), 500);
  setInterval(() => pollOutbox().catch(() => {}), 2_000);
}

main().catch((error) => {
  show(null, 'The playground could not start.');
  showError(error);
});
