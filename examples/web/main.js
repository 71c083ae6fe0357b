// The miniauth AuthClient in a web page, with plain DOM: sign in as a
// (simulated) WeChat user or through a chat bot, register or bind a new one, show the id_token's
// claims, call the API with the id_token, refresh, log out. The session is
// kept in localStorage, so it survives a reload.
//
// `miniauth` is resolved by the import map in index.html (or by a bundler).

import { ready, AuthClient } from 'miniauth';

const DEFAULT_SERVER = 'http://127.0.0.1:8787';
const FLOW_NAMES = {
  wechat_phone: 'WeChat phone number',
  sms_code: 'SMS code',
  email_code: 'email code',
  wechat_code: 'code in WeChat chat',
  password: 'username and password',
  register: 'registering',
};

const $ = (id) => document.getElementById(id);
const server = new URLSearchParams(location.search).get('server') || DEFAULT_SERVER;
$('server').value = server;

let client;

/** Shows one of the sections 'signed-out', 'bind' or 'signed-in' (or none while loading). */
function show(view, status) {
  for (const id of ['signed-out', 'bind', 'signed-in']) $(id).hidden = id !== view;
  document.body.dataset.view = view || 'error';
  $('status').textContent = status;
}

/** Shows an error under the status line; null hides it. */
function showError(error) {
  const el = $('error');
  if (error === null) {
    el.hidden = true;
    el.textContent = '';
    return;
  }
  console.error(error);
  // MiniAuthError has a stable `code`; ERR_SERVER also has the server's `error` code.
  const code = error.code ? `${error.code}${error.error ? ` (${error.error})` : ''}: ` : '';
  el.textContent = `${code}${error.message}`;
  el.hidden = false;
}

function showSignedIn(claims) {
  $('sub').textContent = claims.sub;
  $('expires').textContent = new Date(claims.exp * 1000).toLocaleTimeString();
  $('claims').textContent = JSON.stringify(claims, null, 2);
  show('signed-in', `Signed in as ${claims.sub}.`);
}

function showSignedOut(status = 'Signed out.') {
  $('userinfo-result').hidden = true;
  show('signed-out', status);
}

function showBind(result) {
  const flows = result.flows || [];
  $('bind-status').textContent = result.status;
  $('flows').textContent = flows.map((flow) => FLOW_NAMES[flow] || flow).join(', ') || 'nothing';
  $('register-form').hidden = !flows.includes('register');
  const options = [...$('channel').options];
  for (const option of options) option.disabled = !flows.includes(`${option.value}_code`);
  $('channel').value = (options.find((option) => !option.disabled) || options[0]).value;
  $('code-sent').hidden = true;
  $('code').value = '';
  show('bind', 'Register a new user, or bind this WeChat user to a phone number, an email address or an account linked to a chat bot.');
}

/** What a login, bind or register call resolved to. */
function showLoginResult(result) {
  if (result.status === 'SUCCESS') showSignedIn(result.claims);
  else showBind(result);
}

/** Runs `action` with the page's buttons disabled, showing any error. */
async function busy(action) {
  const buttons = [...document.querySelectorAll('button')];
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

/** What wx.login() would give this WeChat user, from the server's simulator (simulator mode only). */
async function simulatedWxLoginCode(openid) {
  const response = await fetch(`${server}/sim/wx/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ openid }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || typeof body.code !== 'string') {
    throw new Error(`POST /sim/wx/login answered HTTP ${response.status}${body.message ? `: ${body.message}` : ''} (is the server in simulator mode?)`);
  }
  return body.code;
}

function on(id, type, handler) {
  $(id).addEventListener(type, (event) => {
    event.preventDefault();
    busy(handler);
  });
}

on('login-form', 'submit', async () => {
  const code = await simulatedWxLoginCode($('openid').value.trim());
  showLoginResult(await client.loginWithWechat({ code }));
});

// Chat sign-in: the page shows six digits, the person sends them to the bot.
on('chat-form', 'submit', async () => {
  const { challenge, outcome } = await client.loginWithChat();
  $('challenge').textContent = challenge;
  $('chat-challenge').hidden = false;
  try {
    showLoginResult(await outcome);
  } finally {
    $('chat-challenge').hidden = true;
  }
});

on('register-form', 'submit', async () => {
  const name = $('name').value.trim();
  showLoginResult(await client.register(name ? { name } : {}));
});

on('send-code-form', 'submit', async () => {
  const channel = $('channel').value;
  const to = $('to').value.trim();
  await client.sendVerifyCode({ channel, to });
  const outbox = document.createElement('a');
  outbox.href = `${server}/sim/outbox?to=${encodeURIComponent(to)}`;
  outbox.target = '_blank';
  outbox.textContent = 'the simulator\'s outbox';
  const sent = $('code-sent');
  sent.replaceChildren(`A code was sent to ${to}. In simulator mode nothing is sent: read it in `, outbox, '.');
  sent.hidden = false;
  $('code').focus();
});

on('bind-form', 'submit', async () => {
  const result = await client.bindWithVerifyCode({ channel: $('channel').value, to: $('to').value.trim(), code: $('code').value.trim() });
  showLoginResult(result);
});

// Drops the pending bind.
on('cancel', 'click', () => client.logout());

on('userinfo', 'click', async () => {
  // getIdToken() refreshes first when the token is due: call it for every request.
  const response = await fetch(`${server}/v1/userinfo`, { headers: { authorization: `Bearer ${await client.getIdToken()}` } });
  $('userinfo-result').textContent = `HTTP ${response.status}\n${JSON.stringify(await response.json(), null, 2)}`;
  $('userinfo-result').hidden = false;
});

on('refresh', 'click', async () => {
  await client.refresh();
});

on('logout', 'click', () => client.logout());

async function main() {
  await ready;
  client = new AuthClient({ baseUrl: server });
  // Keeps the page in step with the session, including changes that no
  // button started: a refresh on a timer, or a session the server ended.
  client.onAuthStateChange((event, { claims }) => {
    if ((event === 'SIGNED_IN' || event === 'TOKEN_REFRESHED') && claims) showSignedIn(claims);
    if (event === 'SIGNED_OUT') showSignedOut();
    if (event === 'REFRESH_FAILED') $('status').textContent = 'Refreshing the id_token failed; it will be retried.';
  });
  // Restores the session kept in localStorage, if any.
  await client.ready;
  const claims = await client.getClaims();
  if (claims) showSignedIn(claims);
  else showSignedOut('Not signed in.');
}

main().catch((error) => {
  show(null, 'The example could not start.');
  showError(error);
});
