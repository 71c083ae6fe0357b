// Compiled (not run) by auth-client.test.mjs against pkg/index.d.ts: how a
// TypeScript user calls AuthClient. Lines marked @ts-expect-error must fail
// to type-check, so the declarations are known to reject misuse too.
import { AuthClient, fileStorage, memoryStorage, MiniAuthError, type AuthEvent, type ChatLink, type LoginResult, type StorageAdapter, type UserInfo } from 'miniauth';

interface IdClaims {
  sub: string;
  phone_number?: string;
}

declare const wxRequest: (options: { url: string; success?: (res: { statusCode: number; data: unknown }) => void }) => { abort(): void };

async function main(): Promise<void> {
  const asyncStorage: StorageAdapter = {
    get: async (key) => (key === 'x' ? 'value' : null),
    set: async () => {},
    remove: () => {},
  };
  const client = new AuthClient<IdClaims>({ baseUrl: 'https://id.example.com', storage: asyncStorage, fetch, refreshMargin: 120_000 });
  new AuthClient({ baseUrl: 'https://id.example.com', request: wxRequest, clientId: 'app', storage: memoryStorage() });
  new AuthClient({ baseUrl: 'https://id.example.com', storage: fileStorage('/tmp/session.json'), timeout: 5000, now: () => Date.now() });
  await client.ready;

  const result: LoginResult<IdClaims> = await client.loginWithWechat({ code: 'abc' });
  if (result.status === 'USER_REGISTER' && result.flows?.includes('sms_code')) {
    const sent = await client.sendVerifyCode({ channel: 'sms', to: '13800138000' });
    const seconds: number = sent.resend_after;
    const bound = await client.bindWithVerifyCode({ channel: 'sms', to: '13800138000', code: '123456' });
    const phone: string | undefined = bound.claims?.phone_number;
  }
  await client.register({ name: 'Ada' });
  await client.register();
  await client.bindWithPassword({ username: 'ada', password: 'secret' });
  await client.bindWithWechatPhone({ code: 'phone-code' });
  await client.loginWithWechatPhone({ code: 'phone-code' });
  await client.loginWithWechat();

  const token: string = await client.getIdToken();
  const claims: IdClaims | null = await client.getClaims();
  const refreshed: string = (await client.refresh()).claims.sub;
  const unsubscribe: () => void = client.onAuthStateChange((event: AuthEvent, details) => {
    const sub: string | undefined = details.claims?.sub;
    const code: string | undefined = details.error?.code;
  });
  unsubscribe();
  const profile: UserInfo = await client.updateProfile({ nickname: '小明', picture: null });
  const nickname: string | undefined = (await client.getUserInfo()).nickname ?? profile.nickname;
  const opened: number = (await client.linkChat({ ticket: 't' })).expires_in;
  const link: ChatLink = await client.confirmChatLink({ ticket: 't', code: '123456' });
  const contactName: string | undefined = link.contact_name ?? link.bot;
  const chat = await client.loginWithChat({ bot: 'helper' });
  const shown: string = chat.challenge;
  const chatResult: LoginResult<IdClaims> = await chat.outcome;
  const api = new AuthClient({ baseUrl: 'https://id.example.com', tokenOrigins: ['https://api.example.com'] });
  const response = await api.fetch('https://api.example.com/orders', { method: 'POST', body: '{}' });
  const status: number = response.status;
  const orders: unknown = await response.json();
  const answer = await api.request<{ orders: string[] }>({ url: 'https://api.example.com/orders', method: 'GET' });
  const first: string | undefined = answer.data.orders[0];
  const updated: AuthEvent = 'USER_UPDATED';
  await client.logout();
  client.close();

  try {
    await client.getIdToken();
  } catch (error) {
    if (error instanceof MiniAuthError && error.code === 'ERR_SERVER') {
      const serverCode: string | undefined = error.error;
      const status: number | undefined = error.status;
    }
  }

  // @ts-expect-error the phone number is not a profile field
  await client.updateProfile({ phone_number: '+8613800000000' });
  // @ts-expect-error confirming a link needs the code
  await client.confirmChatLink({ ticket: 't' });
  // @ts-expect-error tokenOrigins is a list
  new AuthClient({ baseUrl: 'https://id.example.com', tokenOrigins: 'https://api.example.com' });
  // @ts-expect-error request needs a url
  await api.request({ method: 'GET' });
  // @ts-expect-error baseUrl is required
  new AuthClient({});
  // @ts-expect-error a storage adapter needs remove()
  new AuthClient({ baseUrl: 'https://id.example.com', storage: { get: () => null, set: () => {} } });
  // @ts-expect-error the channel is 'sms' or 'email'
  await client.sendVerifyCode({ channel: 'fax', to: 'x' });
  // @ts-expect-error no such event
  client.onAuthStateChange((event) => event === 'SIGNED_UP');
  // @ts-expect-error loginWithWechatPhone needs a code
  await client.loginWithWechatPhone({});
}

void main;
