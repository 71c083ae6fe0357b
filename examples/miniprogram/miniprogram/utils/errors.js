// Words for the user from a MiniAuthError (or anything thrown).

const SERVER_MESSAGES = {
  wechat_code_invalid: 'WeChat login expired; please try again.',
  invalid_state_token: 'This sign-in has expired; please log in again.',
  state_token_expired: 'This sign-in has expired; please log in again.',
  flow_not_allowed: 'This way of binding is not offered.',
  user_not_found: 'No account has this phone number or email.',
  invalid_credentials: 'Wrong username or password.',
  invalid_recipient: 'Please enter a valid phone number or email address.',
  invalid_verify_code: 'Wrong code.',
  verify_code_expired: 'The code has expired; request a new one.',
  verify_code_exhausted: 'Too many wrong codes; request a new one.',
  verify_code_too_frequent: 'Please wait before requesting another code.',
  verify_code_limit_reached: 'No more codes can be sent for now; please try again later.',
  recipient_not_allowed: 'Codes cannot be sent to this number.',
  too_many_failures: 'Too many wrong attempts; please try again later.',
  already_bound: 'This account is already bound to another WeChat user.',
  rate_limited: 'Too many attempts; please wait a moment.',
  invalid_ticket: 'This card has expired or was opened already; ask the bot for a new one.',
};

function messageOf(error) {
  if (error && error.code === 'ERR_SERVER' && SERVER_MESSAGES[error.error]) return SERVER_MESSAGES[error.error];
  if (error && error.code === 'ERR_NETWORK') return 'Cannot reach the server. Check the network and try again.';
  if (error && error.code === 'ERR_SIGNED_OUT') return 'Please log in again.';
  return (error && error.message) || String(error);
}

module.exports = { messageOf };
