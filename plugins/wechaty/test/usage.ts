// Compiled (not run) by `make lint` (tsc -p plugins/wechaty/test): how a
// TypeScript bot uses the package, as its README shows. The lines marked
// as expected errors must fail to type-check.
import { WechatyBuilder } from 'wechaty';
import { MiniAuthWechaty, MiniAuthWechatyError, type ChatProfile, type RoomSyncResult } from '../src/index.js';

const bot = WechatyBuilder.build();
const auth = new MiniAuthWechaty({
  baseUrl: 'https://id.example.com',
  botKey: process.env.MINIAUTH_BOT_KEY ?? '',
  miniProgram: { appid: 'wx0123', username: 'gh_0123@app', title: 'Sign in', pagePath: 'pages/link/link', thumbUrl: 'https://example.com/t.png' },
  roomSyncInterval: 5 * 60_000,
});
bot.use(auth.plugin());

bot.on('message', async (message) => {
  if (message.self()) return;
  const talker = message.talker();
  const profile: ChatProfile | null = await auth.getProfile(talker);
  if (!profile) await talker.say(await auth.getAuthMiniProgram(talker));
  else await message.say(`Hello again, ${profile.name ?? profile.sub}`);
});

export async function failures(): Promise<string | undefined> {
  try {
    await auth.getProfile(bot.currentUser);
  } catch (error) {
    if (error instanceof MiniAuthWechatyError && error.code === 'ERR_SERVER') return error.error;
  }
  return undefined;
}

// After a batch of room changes the bot made itself: sync now rather than at the next interval.
export async function roomsNow(): Promise<number> {
  const { synced, removed, failed }: RoomSyncResult = await auth.syncRooms();
  if (failed > 0) console.warn(`${failed} rooms not synced`);
  return synced + removed;
}

// @ts-expect-error the card needs its page
new MiniAuthWechaty({ baseUrl: 'https://id.example.com', botKey: 'mab_x', miniProgram: { appid: 'wx0123', username: 'gh_0123@app' } });
// @ts-expect-error the interval is a number of ms
new MiniAuthWechaty({ baseUrl: 'https://id.example.com', botKey: 'mab_x', miniProgram: { appid: 'wx0123', username: 'gh_0123@app', pagePath: 'p' }, roomSyncInterval: '10m' });
