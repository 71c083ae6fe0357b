// Rooms as groups, on Wechaty's mock puppet against the real reference
// server: the plugin keeps the server's copy of the bot's rooms (at login,
// on room events, by full syncs), and the server's read API shows it to the
// bot, to an API client with rooms:read and to a user whose linked contact
// is a member, and to no one else.

import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { MiniAuthWechaty } from '../src/index.js';
import { CARD, startBot as startMockBot, waitFor } from './support/mock-bot.mjs';
import { linkInMiniProgram, signedIn } from './support/people.mjs';
import { botsCommand, clientsCommand, serverWithBot } from '../../../tests/js/support/miniauth-server.mjs';

let running;
let database;
let server;
let botKey;
/** The secret of an API client with rooms:read. */
let reader;

before(async () => {
  running = await serverWithBot('wechaty-rooms');
  ({ database, server, botKey } = running);
  reader = await clientsCommand(database, 'add', '--name', 'reader', '--scope', 'rooms:read');
});

after(() => running?.stop());

const startBot = (options) => startMockBot({ baseUrl: server.url, botKey, ...options });

/** GET `path` with `Authorization: Bearer <token>`: the status and the parsed body. */
async function get(path, token) {
  const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

const roomPath = (roomId) => `/v1/rooms/${encodeURIComponent(roomId)}`;
/** The room as `token` (by default the rooms:read client) reads it. */
const readRoom = (roomId, token = reader) => get(roomPath(roomId), token);
/** A member of the room as `token` (by default the rooms:read client) reads it. */
const readMember = (roomId, memberId, token = reader) => get(`${roomPath(roomId)}/members/${encodeURIComponent(memberId)}`, token);

/** Polls the room as the rooms:read client reads it until `check(answer)`: that answer. */
const roomWhen = (roomId, check, what) => waitFor(async () => {
  const answer = await readRoom(roomId);
  return check(answer) ? answer : undefined;
}, what);
const present = (answer) => answer.status === 200;
const absent = (answer) => answer.status === 404;
const withMember = (id) => (answer) => answer.status === 200 && answer.body.memberIds.includes(id);
const sorted = (ids) => [...ids].sort();

/**
 * A fetch for the plugin that records its calls to /v1/bot/rooms… as they
 * start (method, path, body and bytes sent, then ms taken), and the most
 * calls to one path in flight at once.
 */
function recordingFetch() {
  const calls = [];
  const inFlight = new Map();
  let mostInFlight = 0;
  const recording = async (url, init) => {
    const { pathname } = new URL(url);
    if (!pathname.startsWith('/v1/bot/rooms')) return fetch(url, init);
    const call = { method: init.method, path: pathname, body: init.body, bytes: init.body === undefined ? 0 : Buffer.byteLength(init.body) };
    calls.push(call);
    inFlight.set(pathname, (inFlight.get(pathname) ?? 0) + 1);
    mostInFlight = Math.max(mostInFlight, inFlight.get(pathname));
    const started = performance.now();
    try {
      const response = await fetch(url, init);
      // The whole answer: the plugin reads it before its next call.
      const text = await response.text();
      return new Response(text === '' ? null : text, { status: response.status, headers: response.headers });
    } finally {
      call.ms = performance.now() - started;
      inFlight.set(pathname, inFlight.get(pathname) - 1);
    }
  };
  return {
    fetch: recording,
    calls,
    get mostInFlight() {
      return mostInFlight;
    },
  };
}

/** A promise and the function that resolves it. */
function deferred() {
  let resolve;
  const promise = new Promise((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/**
 * A fetch for the plugin that holds calls: `hold(method, roomId)` makes the
 * next such call to /v1/bot/rooms/{roomId} wait for `release()`; `reached`
 * resolves when it comes, `answered` when its answer is back.
 */
function holdingFetch() {
  const holds = [];
  const holding = async (url, init) => {
    const { pathname } = new URL(url);
    const held = holds.find((hold) => !hold.taken && hold.method === init.method && hold.path === pathname);
    if (!held) return fetch(url, init);
    held.taken = true;
    held.came.resolve();
    await held.go.promise;
    try {
      const response = await fetch(url, init);
      // The whole answer, so that the plugin goes on from here without I/O.
      const text = await response.text();
      return new Response(text === '' ? null : text, { status: response.status, headers: response.headers });
    } finally {
      held.back.resolve();
    }
  };
  const hold = (method, roomId) => {
    const held = { method, path: `/v1/bot/rooms/${encodeURIComponent(roomId)}`, taken: false, came: deferred(), go: deferred(), back: deferred() };
    holds.push(held);
    return { reached: held.came.promise, answered: held.back.promise, release: held.go.resolve };
  };
  return { fetch: holding, hold };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

describe('rooms as groups on the mock puppet', { timeout: 90_000 }, () => {
  test('the rooms the bot is in at login reach the server: topic, avatar, owner, admins, members and their details', async () => {
    let people;
    let club;
    let climbing;
    const b = await startBot({
      beforeLogin({ mocker, puppet, self, contact }) {
        // Dan's name has what cannot be shown (a bidirectional override, a
        // control character), his avatar is not https.
        people = { alice: contact('Alice'), bob: contact('Bob'), carol: contact('Carol'), dan: contact('Dan\u202E\u0007 Li') };
        const { alice, bob, carol, dan } = people;
        dan.payload.avatar = 'http://example.com/dan.png';
        const memberIdList = [self.id, alice.id, bob.id, carol.id, dan.id];
        club = mocker.createRoom({ topic: 'Book club', ownerId: alice.id, adminIdList: [bob.id], memberIdList });
        climbing = mocker.createRoom({ topic: 'Climbing', ownerId: self.id, memberIdList: [self.id, carol.id] });
        Object.assign(puppet.memberDetails(club.id, bob.id), { roomAlias: 'Bobby', inviterId: alice.id });
        puppet.memberDetails(club.id, dan.id).roomAlias = '\u200B';
      },
    });
    try {
      const { alice, bob, carol, dan } = people;
      const { body } = await roomWhen(club.id, present, 'the book club on the server');
      assert.deepEqual(body, {
        id: club.id,
        topic: 'Book club',
        avatar: club.payload.avatar,
        ownerId: alice.id,
        adminIds: [bob.id],
        memberIds: sorted([b.self.id, alice.id, bob.id, carol.id, dan.id]),
      });
      assert.match(body.avatar, /^https:\/\//);
      assert.deepEqual(await readMember(club.id, bob.id), {
        status: 200,
        body: { id: bob.id, roomAlias: 'Bobby', inviterId: alice.id, avatar: bob.payload.avatar, name: 'Bob' },
      });
      assert.deepEqual((await readMember(club.id, carol.id)).body, { id: carol.id, roomAlias: null, inviterId: null, avatar: carol.payload.avatar, name: 'Carol' });
      // The server drops what cannot be shown rather than the whole room.
      assert.deepEqual((await readMember(club.id, dan.id)).body, { id: dan.id, roomAlias: null, inviterId: null, avatar: null, name: 'Dan Li' });

      // A full sync now runs after the login's: both rooms put, nothing to remove.
      assert.deepEqual(await b.auth.syncRooms(), { synced: 2, removed: 0, failed: 0 });
      assert.deepEqual(await get('/v1/bot/rooms', botKey), { status: 200, body: sorted([club.id, climbing.id]) });
      // The bot reads its own copy as the client does.
      assert.deepEqual(await readRoom(club.id, botKey), { status: 200, body });
      assert.deepEqual((await readRoom(climbing.id)).body.memberIds, sorted([b.self.id, carol.id]));
      assert.deepEqual(b.errors, []);
    } finally {
      await b.stop();
    }
  });

  test('a join, a leave and a topic change reach the server; a burst of changes is coalesced, one sync of a room at a time', async () => {
    const traffic = recordingFetch();
    let alice;
    let bob;
    let dave;
    let team;
    const b = await startBot({
      fetch: traffic.fetch,
      beforeLogin({ mocker, self, contact }) {
        [alice, bob, dave] = [contact('Alice'), contact('Bob'), contact('Dave')];
        team = mocker.createRoom({ topic: 'Team', ownerId: alice.id, memberIdList: [self.id, alice.id, bob.id] });
      },
    });
    try {
      await roomWhen(team.id, present, 'the room on the server');

      team.add(dave).by(alice);
      await roomWhen(team.id, withMember(dave.id), 'Dave in the room');
      assert.equal((await readMember(team.id, dave.id)).body.inviterId, alice.id);

      team.remove(bob).by(alice);
      await roomWhen(team.id, (answer) => present(answer) && !answer.body.memberIds.includes(bob.id), 'Bob out of the room');
      assert.equal((await readMember(team.id, bob.id)).status, 404);

      team.topic('Team, renamed').by(alice);
      await roomWhen(team.id, (answer) => answer.body.topic === 'Team, renamed', 'the new topic');

      const seen = traffic.calls.length;
      for (let i = 1; i <= 10; i += 1) team.topic(`Rename ${i}`).by(alice);
      const { body } = await roomWhen(team.id, (answer) => answer.body.topic === 'Rename 10', 'the last of ten topics');
      assert.deepEqual(body.memberIds, sorted([b.self.id, alice.id, dave.id]));
      const puts = traffic.calls.slice(seen).filter((call) => call.method === 'PUT').length;
      assert.ok(puts < 10, `ten renames coalesced, but ${puts} PUTs`);
      assert.equal(traffic.mostInFlight, 1, 'one sync of a room at a time');
      assert.deepEqual(b.errors, []);
    } finally {
      await b.stop();
    }
  });

  test('a linked member\'s id_token lists the room and reads it, until the member leaves', async () => {
    let alice;
    let erin;
    let street;
    const b = await startBot({
      beforeLogin({ mocker, self, contact }) {
        [alice, erin] = [contact('Alice'), contact('Erin')];
        street = mocker.createRoom({ topic: 'Neighbours', memberIdList: [self.id, alice.id, erin.id] });
      },
    });
    const client = await linkInMiniProgram(server, b, erin, 'o_erin_rooms', 'Erin');
    try {
      await roomWhen(street.id, present, 'the room on the server');
      const { claims } = await client.refresh();
      assert.deepEqual(claims.rooms, [street.id]);
      assert.equal(claims.rooms_truncated, undefined);
      assert.deepEqual((await server.claimsOf(await client.getIdToken())).rooms, [street.id], 'in the verified id_token');
      assert.deepEqual((await client.getUserInfo()).rooms, [street.id]);
      const asErin = await readRoom(street.id, await client.getIdToken());
      assert.equal(asErin.status, 200);
      assert.deepEqual(asErin.body.memberIds, sorted([b.self.id, alice.id, erin.id]));
      assert.equal((await readMember(street.id, alice.id, await client.getIdToken())).body.name, 'Alice');

      street.remove(erin).by(alice);
      await roomWhen(street.id, (answer) => present(answer) && !answer.body.memberIds.includes(erin.id), 'Erin out of the room');
      const later = await client.refresh();
      assert.equal(later.claims.rooms, undefined);
      const refused = await readRoom(street.id, await client.getIdToken());
      assert.equal(refused.status, 404);
      assert.equal(refused.body.error, 'not_found');
      assert.deepEqual(b.errors, []);
    } finally {
      client.close();
      await b.stop();
    }
  });

  test('no one else reads a room: an unlinked user, another bot, a client without rooms:read, a revoked one', async () => {
    let alice;
    let quiet;
    const b = await startBot({
      beforeLogin({ mocker, self, contact }) {
        alice = contact('Alice');
        quiet = mocker.createRoom({ topic: 'Private', memberIdList: [self.id, alice.id] });
      },
    });
    const stranger = await signedIn(server, 'o_stranger_rooms', 'Stranger');
    try {
      await roomWhen(quiet.id, present, 'the room on the server');
      const notFound = (answer) => answer.status === 404 && answer.body.error === 'not_found';

      const token = await stranger.getIdToken();
      assert.ok(notFound(await readRoom(quiet.id, token)));
      assert.ok(notFound(await readMember(quiet.id, alice.id, token)));
      assert.equal((await stranger.refresh()).claims.rooms, undefined);

      const otherKey = await botsCommand(database, 'add', '--name', 'rooms-other');
      assert.ok(notFound(await readRoom(quiet.id, otherKey)));
      assert.deepEqual(await get('/v1/bot/rooms', otherKey), { status: 200, body: [] });

      const unscoped = await clientsCommand(database, 'add', '--name', 'no-rooms');
      const forbidden = await readRoom(quiet.id, unscoped);
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.body.error, 'insufficient_scope');

      const revoked = await clientsCommand(database, 'add', '--name', 'revoked-reader', '--scope', 'rooms:read');
      assert.equal((await readRoom(quiet.id, revoked)).status, 200);
      await clientsCommand(database, 'revoke', 'revoked-reader');
      assert.equal((await readRoom(quiet.id, revoked)).status, 401);

      assert.ok(notFound(await readRoom('nowhere@chatroom')));
      assert.deepEqual(b.errors, []);
    } finally {
      stranger.close();
      await b.stop();
    }
  });

  test('a room of 500 members syncs whole, its members\' details read a few at a time', async (t) => {
    const traffic = recordingFetch();
    let crowd;
    let reading = 0;
    let mostReading = 0;
    const b = await startBot({
      fetch: traffic.fetch,
      beforeLogin({ mocker, puppet, self }) {
        const others = mocker.createContacts(499);
        crowd = mocker.createRoom({ topic: 'Everyone', memberIdList: [self.id, ...others.map((other) => other.id)] });
        const memberPayload = puppet.roomMemberPayload.bind(puppet);
        puppet.roomMemberPayload = async (...args) => {
          reading += 1;
          mostReading = Math.max(mostReading, reading);
          try {
            return await memberPayload(...args);
          } finally {
            reading -= 1;
          }
        };
      },
    });
    try {
      const { body } = await roomWhen(crowd.id, (answer) => present(answer) && answer.body.memberIds.length === 500, '500 members on the server');
      assert.deepEqual(body.memberIds, sorted(crowd.payload.memberIdList));
      const first = traffic.calls.find((call) => call.method === 'PUT');
      assert.deepEqual(JSON.parse(first.body).members.map((member) => member.id), crowd.payload.memberIdList, 'in the puppet\'s order');
      assert.equal(mostReading, 8, 'eight members\' details asked at once');

      const started = performance.now();
      assert.deepEqual(await b.auth.syncRooms(), { synced: 1, removed: 0, failed: 0 });
      const fullSync = performance.now() - started;
      const again = traffic.calls.findLast((call) => call.method === 'PUT');

      const reads = [];
      for (let i = 0; i < 50; i += 1) {
        const readStarted = performance.now();
        assert.equal((await readRoom(crowd.id)).status, 200);
        reads.push(performance.now() - readStarted);
      }
      const figures = [
        `500-member room: PUT ${(first.bytes / 1024).toFixed(0)} KiB`,
        `first PUT ${first.ms.toFixed(1)} ms`,
        `unchanged PUT ${again.ms.toFixed(1)} ms`,
        `syncRooms() ${fullSync.toFixed(1)} ms`,
        `GET /v1/rooms/{id} median ${median(reads).toFixed(2)} ms over ${reads.length}`,
      ].join(', ');
      t.diagnostic(figures);
      console.log(figures);
      assert.deepEqual(b.errors, []);
    } finally {
      await b.stop();
    }
  });

  test('a room the bot left, or that is gone from its ready puppet, is removed from the server', async () => {
    // A bot of its own: the rooms other tests left on the server are not its.
    const ownKey = await botsCommand(database, 'add', '--name', 'rooms-left');
    let alice;
    let left;
    let gone;
    let kept;
    const b = await startBot({
      botKey: ownKey,
      beforeLogin({ mocker, self, contact }) {
        alice = contact('Alice');
        [left, gone, kept] = ['Left', 'Gone', 'Kept'].map((topic) => mocker.createRoom({ topic, memberIdList: [self.id, alice.id] }));
      },
    });
    try {
      for (const room of [left, gone, kept]) await roomWhen(room.id, present, `${room.payload.topic} on the server`);

      left.remove(b.self).by(alice);
      // A real puppet's member list may lag the event: the event decides.
      left.payload.memberIdList.push(b.self.id);
      await roomWhen(left.id, absent, 'the room the bot left removed');
      left.payload.memberIdList.pop();

      // The mock still lists the room the bot left, which is not put again;
      // the other is gone from the puppet's list. The mock never says it is
      // ready: the full sync its 'ready' starts, which this call shares,
      // takes the puppet's list for whole.
      b.mocker.cacheRoomPayload.delete(gone.id);
      b.puppet.emit('ready', { data: 'ready' });
      assert.deepEqual(await b.auth.syncRooms(), { synced: 1, removed: 2, failed: 0 });
      for (const room of [left, gone]) assert.ok(absent(await readRoom(room.id)), `${room.payload.topic} removed`);
      assert.ok(present(await readRoom(kept.id)));
      assert.deepEqual(await get('/v1/bot/rooms', ownKey), { status: 200, body: [kept.id] });
      assert.deepEqual(b.errors, []);
    } finally {
      await b.stop();
    }
    await assert.rejects(b.auth.syncRooms(), { code: 'ERR_NOT_LOGGED_IN' });
  });

  test('before the puppet is ready, a full sync removes no room (it may list none yet); its ready does', async () => {
    const ownKey = await botsCommand(database, 'add', '--name', 'rooms-ready');
    let held;
    const earlier = await startBot({
      botKey: ownKey,
      beforeLogin({ mocker, self, contact }) {
        const alice = contact('Alice');
        held = ['North', 'South'].map((topic) => mocker.createRoom({ topic, memberIdList: [self.id, alice.id] }));
      },
    });
    try {
      for (const room of held) await roomWhen(room.id, present, `${room.payload.topic} on the server`);
      assert.deepEqual(earlier.errors, []);
    } finally {
      await earlier.stop();
    }

    // The bot logs in again, on a puppet that lists no room until it is ready.
    const b = await startBot({ botKey: ownKey });
    try {
      // Shares or follows the login's full sync.
      assert.deepEqual(await b.auth.syncRooms(), { synced: 0, removed: 0, failed: 0 });
      for (const room of held) assert.ok(present(await readRoom(room.id)), `${room.payload.topic} kept`);

      b.puppet.emit('ready', { data: 'ready' });
      for (const room of held) await roomWhen(room.id, absent, `${room.payload.topic} removed once the puppet is ready`);
      assert.deepEqual(await get('/v1/bot/rooms', ownKey), { status: 200, body: [] });
      assert.deepEqual(b.errors, []);
    } finally {
      await b.stop();
    }
  });

  test('a leave that comes while a full sync runs stays a leave when the sync reaches that room', async () => {
    const traffic = holdingFetch();
    let alice;
    let first;
    let second;
    const b = await startBot({
      fetch: traffic.fetch,
      beforeLogin({ mocker, self, contact }) {
        alice = contact('Alice');
        [first, second] = ['First', 'Second'].map((topic) => mocker.createRoom({ topic, memberIdList: [self.id, alice.id] }));
      },
    });
    const holds = [];
    const hold = (method, room) => {
      const held = traffic.hold(method, room.id);
      holds.push(held);
      return held;
    };
    try {
      for (const room of [first, second]) await roomWhen(room.id, present, `${room.payload.topic} on the server`);
      // Second's sync for a new topic is under way throughout: what comes for
      // Second meanwhile waits for one more sync after it.
      const renaming = hold('PUT', second);
      second.topic('Second, renamed').by(alice);
      await renaming.reached;

      // The full sync lists both rooms, and is putting First when the bot leaves Second.
      const puttingFirst = hold('PUT', first);
      const sync = b.auth.syncRooms();
      await puttingFirst.reached;
      const leaveSeen = new Promise((resolve) => b.bot.once('room-leave', resolve));
      second.remove(b.self).by(alice);
      // A real puppet's member list may lag the event: the event decides.
      second.payload.memberIdList.push(b.self.id);
      await leaveSeen;
      puttingFirst.release();
      await puttingFirst.answered;
      // Microtasks only from First's answer on: by then the full sync has reached Second, as listed.
      await new Promise((resolve) => setTimeout(resolve, 100));
      renaming.release();

      assert.deepEqual(await sync, { synced: 1, removed: 1, failed: 0 });
      assert.ok(absent(await readRoom(second.id)), 'Second removed');
      assert.ok(present(await readRoom(first.id)));
      assert.deepEqual(b.errors, []);
    } finally {
      for (const held of holds) held.release();
      await b.stop();
    }
  });

  test('the periodic sync brings what no event tells (owner, admins), and stops at logout', async () => {
    const traffic = recordingFetch();
    let alice;
    let bob;
    let board;
    const b = await startBot({
      roomSyncInterval: 100,
      fetch: traffic.fetch,
      beforeLogin({ mocker, self, contact }) {
        [alice, bob] = [contact('Alice'), contact('Bob')];
        board = mocker.createRoom({ topic: 'Board', ownerId: alice.id, adminIdList: [], memberIdList: [self.id, alice.id, bob.id] });
      },
    });
    try {
      await roomWhen(board.id, present, 'the room on the server');
      // WeChat tells no event of these; the puppet's payload has them.
      board.payload.ownerId = bob.id;
      board.payload.adminIdList.push(alice.id);
      const { body } = await roomWhen(board.id, (answer) => answer.body.adminIds?.includes(alice.id), 'the new admin');
      assert.equal(body.ownerId, bob.id);
      assert.deepEqual(b.errors, []);
    } finally {
      await b.stop();
    }
    const calls = traffic.calls.length;
    // Five intervals: a timer left running would have synced again.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(traffic.calls.length, calls, 'no sync after logout');
  });

  test('the roomSyncInterval option is checked', () => {
    const good = { baseUrl: 'https://id.example.com', botKey: 'mab_x', miniProgram: CARD };
    for (const roomSyncInterval of [-1, '600000', Number.NaN, Infinity, 2 ** 31]) {
      assert.throws(() => new MiniAuthWechaty({ ...good, roomSyncInterval }), { code: 'ERR_INVALID_ARGUMENT' }, String(roomSyncInterval));
    }
    new MiniAuthWechaty({ ...good, roomSyncInterval: 0 });
    return assert.rejects(new MiniAuthWechaty(good).syncRooms(), { code: 'ERR_NOT_INSTALLED' });
  });
});
