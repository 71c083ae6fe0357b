// People signing in through the built miniauth package (pkg/node) as a Mini
// Program page would, against the real server, and linking their chat
// contact at a mock bot through its login card.

import { createRequire } from 'node:module';
import { join } from 'node:path';
import { codeIn } from './mock-bot.mjs';
import { PKG_DIR } from '../../../../tests/js/support/paths.mjs';

export const { AuthClient, memoryStorage } = createRequire(import.meta.url)(join(PKG_DIR, 'node', 'index.cjs'));

/** A person signed in to the Mini Program at `server` as the WeChat user `openid` (registered as `name` if new). */
export async function signedIn(server, openid, name) {
  const client = new AuthClient({ baseUrl: server.url, storage: memoryStorage() });
  const login = await client.loginWithWechat({ code: await server.wxLoginCode(openid) });
  if (login.status === 'USER_REGISTER') await client.register({ name });
  return client;
}

/** `person` links through the card of the bot `b`, signed in to the Mini Program as `openid`: the signed-in client. */
export async function linkInMiniProgram(server, b, person, openid, name) {
  const ticket = await b.cardTicket(person);
  const client = await signedIn(server, openid, name);
  const codeText = b.nextText(person, /^\d{6} /);
  await client.linkChat({ ticket });
  await client.confirmChatLink({ ticket, code: codeIn(await codeText) });
  return client;
}
