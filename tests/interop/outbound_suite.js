'use strict';
// Outbound interop suite, shared by modesl.test.js and drachtio_modesl.test.js: the same real,
// unmodified ESL library runs its outbound server (esl.Server), and the socket application of
// an eventsocketd that this suite starts for itself connects out to it:
//
//   inbound:  bgapi originate {origination_uuid=<uuid>}null/x '&socket(127.0.0.1:<port> async full)'
//   outbound: connect -> CHANNEL_DATA (getInfo), myevents, linger,
//             sendmsg execute answer / playback silence_stream://100 -> CHANNEL_EXECUTE_COMPLETE,
//             sendmsg hangup -> CHANNEL_HANGUP_COMPLETE, linger notice, exit -> disconnect notice
//   outbound: linger 1, the far end hangs up -> the server closes after the linger time
//   outbound: &socket(127.0.0.1:<port>) (static, single-channel): api refused, execute replies
//             only once the application has run, hangup ends the connection
//
// The tests of one describe block run in order; the three "async full" ones share one call.
// Every wait is bounded (STEP_TIMEOUT_MS); a failure carries the bytes of the inbound control
// connection and of the outbound connections involved, and the daemon's output.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { performance } = require('node:perf_hooks');
const {
  HOST, freePort, Daemon, Client, withTimeout, replyText, STEP_TIMEOUT_MS, SUITE_TIMEOUT_MS,
} = require('./interop_suite');
const { channelCount, waitChannelCount } = require('./calls_suite');

const DISCONNECT_MESSAGE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';
const PLAYBACK = 'silence_stream://100';
const PLAYBACK_MS = 100;

function printable(buf) {
  return JSON.stringify(buf.toString('utf8'));
}

// One connection accepted by the library's esl.Server, with what the library made of it:
// events, command replies and disconnect notices in arrival order (each stamped with
// performance.now()), the raw bytes both ways, and whether the library reported its close.
class OutboundPeer {
  constructor(conn, id, sock, wire) {
    this.conn = conn;
    this.id = id;
    this.sock = sock;
    this.wire = wire;
    this.events = [];
    this.replies = [];
    this.notices = [];
    this.errors = [];
    this.waiters = [];
    this.readyAt = null;
    this.closedAt = null;
    this.closed = new Promise((resolve) => { this.onClosed = resolve; });
    // Without a listener modesl's EventEmitter2 would throw a socket error out of the emit.
    conn.on('error', (err) => this.errors.push(err));
    conn.on('esl::event::**', (event, headers) => {
      // The library also re-emits the connect reply as esl::event::CHANNEL_DATA::<uuid> with
      // the event only; the packet itself arrives again as the command/reply below.
      const type = headers && headers['Content-Type'];
      if (typeof type !== 'string') return;
      let kind;
      if (type.startsWith('text/event-')) kind = 'events';
      else if (type === 'command/reply') kind = 'replies';
      else if (type === 'text/disconnect-notice') kind = 'notices';
      else return;
      const rec = { event, type, index: this[kind].length, at: performance.now() };
      this[kind].push(rec);
      this.waiters = this.waiters.filter((w) => !w(kind, rec));
    });
  }

  uuid() {
    const info = this.conn.getInfo();
    return info ? info.getHeader('Unique-ID') : null;
  }

  sent() {
    return this.wire.filter((w) => w.dir === '>').map((w) => w.data.toString()).join('');
  }

  received() {
    return this.wire.filter((w) => w.dir === '<').map((w) => w.data.toString()).join('');
  }

  transcript() {
    return this.wire.map((w) => `${w.dir} ${printable(w.data)}`).join('\n');
  }

  // Resolves with the first record of `kind` ('events', 'replies' or 'notices'), already
  // received or arriving later, for which pred(event, rec) is true.
  wait(kind, pred, what) {
    const hit = this[kind].find((rec) => pred(rec.event, rec));
    if (hit) return Promise.resolve(hit);
    return withTimeout(new Promise((resolve) => {
      this.waiters.push((k, rec) => {
        if (k !== kind || !pred(rec.event, rec)) return false;
        resolve(rec);
        return true;
      });
    }), STEP_TIMEOUT_MS, `${what} on the outbound connection`);
  }

  // The library's sendRecv: its callback gets the next command/reply.
  sendRecv(command, args) {
    return withTimeout(new Promise((resolve) => this.conn.sendRecv(command, args || null, (evt) => resolve(evt))),
      STEP_TIMEOUT_MS, `command/reply to "${command}" on the outbound connection`);
  }

  // The library's execute(app, arg, cb): it sends "sendmsg <uuid>" (uuid from getInfo()) with
  // call-command execute and an Event-UUID it generates and returns, and calls cb with the
  // CHANNEL_EXECUTE_COMPLETE whose Application-UUID is that Event-UUID. The command/reply goes
  // to no callback (the library uses send(), not sendRecv()), so it is picked out by position.
  execute(app, arg) {
    const replyIndex = this.replies.length;
    let eventUuid;
    const sentAt = performance.now();
    const complete = withTimeout(new Promise((resolve) => {
      eventUuid = this.conn.execute(app, arg, (evt) => resolve({ event: evt, at: performance.now() }));
    }), STEP_TIMEOUT_MS, `CHANNEL_EXECUTE_COMPLETE for "execute ${app} ${arg}" (the library's execute callback)`);
    const reply = this.wait('replies', (e, rec) => rec.index === replyIndex,
      `the command/reply to sendmsg "execute ${app} ${arg}"`);
    // Awaited by the test; a failure elsewhere first must not leave an unhandled rejection.
    complete.catch(() => {});
    reply.catch(() => {});
    return { eventUuid, sentAt, complete, reply };
  }

  closedWithin(what) {
    return withTimeout(this.closed, STEP_TIMEOUT_MS, `connection::close from esl.Server (${what})`);
  }
}

// The library's outbound server on a free 127.0.0.1 port. Every connection it accepts becomes
// an OutboundPeer; waitReady(uuid) resolves once the connection of that channel is ready.
class OutboundServer {
  constructor(esl) {
    this.esl = esl;
    this.srv = null;
    this.port = 0;
    this.peers = [];
    this.byId = new Map();
    this.captures = new Map();  // net.Socket -> wire records, filled before the library reads
    this.waiters = [];
  }

  async start() {
    // esl.Server({host, port, myevents}, readyCb) listens itself, but it cannot be given port
    // 0 (`opts.port || 8022` turns 0 into 8022), so a free port is picked first, as for the
    // daemon, and the listen is retried if it was taken in between.
    let lastError;
    for (let attempt = 0; attempt < 3; ++attempt) {
      const port = await freePort();
      let srv;
      const listening = new Promise((resolve, reject) => {
        srv = new this.esl.Server({ host: HOST, port, myevents: true }, resolve);
        // listen() reports EADDRINUSE later on the net.Server; unheard, it would throw.
        srv.server.once('error', reject);
      });
      // Runs before the library's own connection handler, which writes "connect" at once.
      srv.server.prependListener('connection', (sock) => this.capture(sock));
      try {
        await withTimeout(listening, STEP_TIMEOUT_MS, `esl.Server to listen on ${HOST}:${port}`);
      } catch (err) {
        lastError = err;
        srv.server.close();
        continue;
      }
      srv.server.on('error', () => {});
      srv.on('connection::open', (conn, id) => this.onOpen(conn, id));
      srv.on('connection::ready', (conn, id) => this.onReady(id));
      srv.on('connection::close', (conn, id) => this.onClose(id));
      this.srv = srv;
      this.port = port;
      return;
    }
    throw lastError;
  }

  capture(sock) {
    const wire = [];
    const write = sock.write.bind(sock);
    sock.write = (data, ...rest) => {
      wire.push({ dir: '>', data: Buffer.from(data) });
      return write(data, ...rest);
    };
    sock.on('data', (d) => wire.push({ dir: '<', data: Buffer.from(d) }));
    this.captures.set(sock, wire);
  }

  onOpen(conn, id) {
    // Emitted synchronously from the accept, so nothing has been read yet.
    const wire = this.captures.get(conn.socket) || [];
    this.captures.delete(conn.socket);
    const peer = new OutboundPeer(conn, id, conn.socket, wire);
    this.peers.push(peer);
    this.byId.set(id, peer);
  }

  onReady(id) {
    const peer = this.byId.get(id);
    if (!peer) return;
    peer.readyAt = performance.now();
    this.waiters = this.waiters.filter((w) => !w(peer));
  }

  onClose(id) {
    const peer = this.byId.get(id);
    if (!peer) return;
    peer.closedAt = performance.now();
    peer.onClosed();
  }

  // The connection whose channel data names `uuid`, once the library said connection::ready.
  waitReady(uuid) {
    const hit = this.peers.find((p) => p.readyAt !== null && p.uuid() === uuid);
    if (hit) return Promise.resolve(hit);
    return withTimeout(new Promise((resolve) => {
      this.waiters.push((peer) => {
        if (peer.uuid() !== uuid) return false;
        resolve(peer);
        return true;
      });
    }), STEP_TIMEOUT_MS, `esl.Server connection::ready for the channel ${uuid} (eventsocketd connecting to ${HOST}:${this.port})`);
  }

  async close() {
    if (!this.srv) return;
    for (const peer of this.peers) peer.sock.destroy();
    await withTimeout(new Promise((resolve) => this.srv.close(() => resolve())), STEP_TIMEOUT_MS,
      'esl.Server to close').catch(() => {});
  }
}

function defineOutboundSuite(libName) {
  const esl = require(libName);
  const version = require(`${libName}/package.json`).version;

  describe(`${libName}@${version} outbound (socket application) against eventsocketd`, { timeout: SUITE_TIMEOUT_MS }, () => {
    const daemon = new Daemon(process.env.EVENTSOCKETD);
    const outbound = new OutboundServer(esl);
    const clients = [];
    let ctl;  // inbound control connection: originates the calls, checks the channel count
    // The call shared by the three "async full" tests.
    const call = { uuid: crypto.randomUUID(), peer: null, hungUp: false };

    async function open() {
      const c = new Client(esl, daemon.port);
      c.daemonOutput = () => daemon.output;
      clients.push(c);
      await c.traced(() => c.ready);
      return c;
    }

    // Runs fn; a failure gets the bytes of the control connection and of the outbound
    // connections given or accepted meanwhile, and the daemon's output, appended.
    async function traced(fn, peers = []) {
      const first = outbound.peers.length;
      try {
        return await fn();
      } catch (err) {
        let extra = '';
        if (ctl) extra += `\n--- inbound control connection (> to eventsocketd, < from it) ---\n${ctl.transcript()}`;
        for (const peer of new Set([...peers.filter(Boolean), ...outbound.peers.slice(first)])) {
          extra += `\n--- outbound connection of ${peer.uuid()} (> library to eventsocketd, < eventsocketd to library) ---\n${peer.transcript()}`;
        }
        if (daemon.output) extra += `\n--- eventsocketd output ---\n${daemon.output}`;
        if (err instanceof Error) {
          err.message += extra;
          if (typeof err.stack === 'string') err.stack += extra;
        }
        throw err;
      }
    }

    // Originates a null/x call whose application is `&socket(<the library's server> <mode>)`
    // and resolves with its outbound connection once the library has said connection::ready
    // and the reply to its myevents (myevents: true) has come.
    async function originateToLibrary(uuid, mode) {
      const ready = outbound.waitReady(uuid);
      ready.catch(() => {});
      const target = `${HOST}:${outbound.port}${mode ? ` ${mode}` : ''}`;
      const app = mode ? `'&socket(${target})'` : `&socket(${target})`;
      const job = await ctl.bgapi('originate', `{origination_uuid=${uuid}}null/x ${app}`);
      assert.equal(job.getBody(), `+OK ${uuid}\n`, `BACKGROUND_JOB of originate ... ${app}`);
      const peer = await ready;
      // drachtio-modesl emits esl::ready from the connect reply's CHANNEL_DATA emission, and
      // esl.Server then sends myevents with sendRecv before the library dispatches that same
      // packet as a command/reply, which resolves the myevents callback: connection::ready
      // comes before the real "+OK Events Enabled". Waiting for that reply here keeps every
      // later sendRecv callback paired with its own reply (modesl has it already).
      await peer.wait('replies', (e) => replyText(e) === '+OK Events Enabled',
        'the "+OK Events Enabled" reply to the library\'s myevents');
      return peer;
    }

    function needCall(t) {
      if (!call.peer) {
        t.skip('the async full call of the first test did not reach the library');
        return false;
      }
      return true;
    }

    before(async () => {
      await daemon.start();
      await outbound.start();
      ctl = await open();
      await ctl.traced(async () => {
        // drachtio-modesl does not subscribe an inbound connection to BACKGROUND_JOB itself.
        assert.equal(replyText(await ctl.eventsCmd('json', 'BACKGROUND_JOB')), '+OK event listener enabled json');
      });
    });

    after(async () => {
      // Whatever a failed test left behind is hung up before the daemon is stopped.
      // A fresh connection: the last test closes the control connection.
      if (!daemon.exited) {
        try {
          const c = await open();
          await c.api('hupall');
          await waitChannelCount(c, 0);
        } catch (err) {
          process.stderr.write(`note: outbound suite cleanup (hupall) failed: ${err.message}\n`);
        }
      }
      await outbound.close();
      for (const c of clients) c.destroy();
      const exitedEarly = daemon.exited;
      await daemon.stop();
      assert.equal(exitedEarly, null,
        `eventsocketd died during the outbound suite: ${JSON.stringify(exitedEarly)}\n${daemon.output}`);
    });

    it('socket async full: esl.Server gets the call; connect gives the channel data (Unique-ID, Socket-Mode async, Control full); myevents and linger are accepted', async () => {
      const { uuid } = call;
      await traced(async () => {
        // How esl.Server exposes where it listens.
        assert.equal(outbound.srv.port, outbound.port);
        assert.deepEqual({ address: outbound.srv.server.address().address, port: outbound.srv.server.address().port },
          { address: HOST, port: outbound.port });

        const peer = await originateToLibrary(uuid, 'async full');
        call.peer = peer;

        const info = peer.conn.getInfo();
        assert.ok(info, 'getInfo() returns the channel data of the connect reply');
        assert.equal(info.getHeader('Unique-ID'), uuid);
        assert.equal(info.getHeader('Socket-Mode'), 'async');
        assert.equal(info.getHeader('Control'), 'full');
        assert.equal(info.getHeader('Event-Name'), 'CHANNEL_DATA');
        assert.equal(info.getHeader('Content-Type'), 'command/reply');
        assert.match(replyText(info), /^\+OK/);
        assert.equal(info.getHeader('Channel-Name'), 'null/x');
        assert.equal(info.getHeader('Call-Direction'), 'outbound');
        assert.equal(info.getHeader('variable_current_application'), 'socket');
        assert.equal(info.getHeader('variable_current_application_data'), `${HOST}:${outbound.port} async full`);

        // The first packet was the library's connect; esl.Server sent myevents (myevents: true).
        const sent = peer.sent();
        assert.ok(sent.startsWith('connect\n\n'), `the library's first packet should be "connect", sent: ${JSON.stringify(sent.slice(0, 80))}`);
        assert.ok(sent.includes('myevents\n\n'), 'esl.Server sends myevents when created with myevents: true');
        // modesl also subscribes its required events (event json BACKGROUND_JOB
        // CHANNEL_EXECUTE_COMPLETE) on an outbound connection; drachtio-modesl leaves that
        // to the application.
        const expected = libName === 'modesl'
          ? ['+OK event listener enabled json', '+OK Events Enabled']
          : ['+OK Events Enabled'];
        assert.deepEqual(peer.replies.slice(1).map((r) => replyText(r.event)), expected,
          'the command replies after the connect reply');

        assert.equal(replyText(await peer.sendRecv('linger')), '+OK will linger');
        assert.equal(peer.closedAt, null, 'the connection is still open');
        assert.deepEqual(peer.errors, []);
      }, [call.peer]);
    });

    it(`socket async full: execute answer and playback ${PLAYBACK} -> +OK at once, then CHANNEL_EXECUTE_COMPLETE with the library's Application-UUID`, async (t) => {
      if (!needCall(t)) return;
      const { uuid, peer } = call;
      await traced(async () => {
        for (const [app, arg] of [['answer', ''], ['playback', PLAYBACK]]) {
          const run = peer.execute(app, arg);
          assert.match(run.eventUuid, /^[0-9a-f-]{36}$/, 'execute() returns the Event-UUID it sent');
          const reply = await run.reply;
          assert.equal(replyText(reply.event), '+OK', `command/reply to sendmsg execute ${app}`);
          const done = await run.complete;
          const evt = done.event;
          assert.equal(evt.getHeader('Event-Name'), 'CHANNEL_EXECUTE_COMPLETE');
          assert.equal(evt.getHeader('Unique-ID'), uuid);
          assert.equal(evt.getHeader('Application'), app);
          assert.equal(evt.getHeader('Application-UUID'), run.eventUuid,
            'Application-UUID is the Event-UUID the library put in the sendmsg');
          if (arg) assert.equal(evt.getHeader('Application-Data'), arg);
          // Async mode: the +OK does not wait for the application.
          assert.ok(reply.at <= done.at, `the +OK (at ${reply.at.toFixed(1)} ms) should come before the CHANNEL_EXECUTE_COMPLETE (at ${done.at.toFixed(1)} ms) in async mode`);
          if (app === 'playback') {
            assert.equal(evt.getHeader('Application-Response'), 'FILE PLAYED');
            assert.ok(done.at - run.sentAt >= PLAYBACK_MS - 5,
              `the playback of ${PLAYBACK} completed after ${(done.at - run.sentAt).toFixed(1)} ms, expected about ${PLAYBACK_MS}`);
          }
          const sent = peer.sent();
          assert.ok(sent.includes(`sendmsg ${uuid}\n`) && sent.includes(`execute-app-name: ${app}\n`)
            && sent.includes(`Event-UUID: ${run.eventUuid}\n`), `the library sent sendmsg ${uuid} with execute-app-name ${app}`);
        }
        // myevents delivers the channel's own events: CHANNEL_EXECUTE came before each completion.
        const executes = peer.events.filter((r) => r.event.getHeader('Event-Name') === 'CHANNEL_EXECUTE')
          .map((r) => r.event.getHeader('Application'));
        assert.deepEqual(executes, ['answer', 'playback'], 'CHANNEL_EXECUTE events on the outbound connection');
        assert.deepEqual(peer.errors, []);
      }, [peer]);
    });

    it('socket async full: sendmsg hangup -> CHANNEL_HANGUP_COMPLETE and the linger notice; exit -> +OK bye, the disconnect notice, connection::close', async (t) => {
      if (!needCall(t)) return;
      const { uuid, peer } = call;
      await traced(async () => {
        // modesl has no hangup call; the sendmsg is sent with its sendRecv and headers.
        const r = await peer.sendRecv('sendmsg', { 'call-command': 'hangup', 'hangup-cause': 'NORMAL_CLEARING' });
        assert.equal(replyText(r), '+OK', 'command/reply to sendmsg call-command: hangup');
        call.hungUp = true;

        const complete = await peer.wait('events', (e) => e.getHeader('Event-Name') === 'CHANNEL_HANGUP_COMPLETE'
          && e.getHeader('Unique-ID') === uuid, `CHANNEL_HANGUP_COMPLETE of ${uuid}`);
        assert.equal(complete.event.getHeader('Hangup-Cause'), 'NORMAL_CLEARING');
        const linger = await peer.wait('notices', () => true, 'the linger notice (text/disconnect-notice, Content-Disposition: linger)');
        assert.equal(linger.event.getHeader('Content-Disposition'), 'linger');
        assert.equal(linger.event.getHeader('Controlled-Session-UUID'), uuid);
        assert.equal(linger.event.getHeader('Channel-Name'), 'null/x');
        // The program hung up itself: the notice follows the CHANNEL_HANGUP_COMPLETE.
        const order = peer.received();
        assert.ok(order.indexOf('CHANNEL_HANGUP_COMPLETE') >= 0
          && order.indexOf('CHANNEL_HANGUP_COMPLETE') < order.indexOf('Content-Disposition: linger'),
          'the linger notice should come after CHANNEL_HANGUP_COMPLETE');

        // Lingering: the connection stays, and the hung-up channel's variables are still readable.
        assert.equal(peer.closedAt, null, 'the connection should stay open while lingering');
        assert.equal(replyText(await peer.sendRecv('getvar playback_ms')), String(PLAYBACK_MS));

        // The library's disconnect() sends exit and ends its side.
        peer.conn.disconnect();
        await peer.closedWithin('after the library\'s disconnect() (exit)');
        const bye = await peer.wait('notices', (e) => e.getHeader('Content-Disposition') === 'disconnect',
          'the disconnect notice after exit');
        assert.equal(bye.event.getHeader('Controlled-Session-UUID'), uuid);
        assert.equal(bye.event.getBody(), DISCONNECT_MESSAGE);
        assert.equal(replyText(peer.replies[peer.replies.length - 1].event), '+OK bye');
        assert.ok(peer.received().endsWith('Content-Type: command/reply\nReply-Text: +OK bye\n\n'
          + `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${uuid}\nContent-Disposition: disconnect\n`
          + `Content-Length: ${DISCONNECT_MESSAGE.length}\n\n${DISCONNECT_MESSAGE}`),
          'expected +OK bye then the disconnect notice as the last bytes');
        assert.equal(peer.notices.length, 2, 'two notices: linger, then disconnect');
        assert.deepEqual(peer.errors, []);
        await waitChannelCount(ctl, 0);
      }, [peer]);
    });

    it('socket async full, linger 1: the far end hangs up (uuid_kill); the server ends the connection itself after the linger time', async () => {
      const uuid = crypto.randomUUID();
      let peer;
      await traced(async () => {
        peer = await originateToLibrary(uuid, 'async full');
        assert.equal(peer.conn.getInfo().getHeader('Socket-Mode'), 'async');
        assert.equal(replyText(await peer.sendRecv('linger 1')), '+OK will linger 1 seconds');

        assert.equal((await ctl.api('uuid_kill', uuid)).getBody(), '+OK\n');
        const linger = await peer.wait('notices', () => true, 'the linger notice after uuid_kill');
        assert.equal(linger.event.getHeader('Content-Disposition'), 'linger');
        assert.equal(linger.event.getHeader('Controlled-Session-UUID'), uuid);
        assert.equal(linger.event.getHeader('Linger-Time'), '1');
        // The rest of the call's events still come while lingering.
        const complete = await peer.wait('events', (e) => e.getHeader('Event-Name') === 'CHANNEL_HANGUP_COMPLETE'
          && e.getHeader('Unique-ID') === uuid, `CHANNEL_HANGUP_COMPLETE of ${uuid} while lingering`);
        assert.equal(complete.event.getHeader('Hangup-Cause'), 'NORMAL_CLEARING');

        await peer.closedWithin('after the linger time of 1 second');
        const lingered = peer.closedAt - linger.at;
        assert.ok(lingered >= 900, `the server closed ${lingered.toFixed(0)} ms after the linger notice, expected about 1000 (linger 1)`);
        const bye = peer.notices[peer.notices.length - 1].event;
        assert.equal(bye.getHeader('Content-Disposition'), 'disconnect');
        assert.equal(bye.getHeader('Controlled-Session-UUID'), uuid);
        assert.equal(bye.getBody(), DISCONNECT_MESSAGE);
        assert.equal(peer.notices.length, 2, 'two notices: linger, then disconnect');
        assert.ok(!peer.sent().includes('exit\n'), 'the library never sent exit: the server closed on its own');
        assert.deepEqual(peer.errors, []);
        await waitChannelCount(ctl, 0);
      }, [peer]);
    });

    it(`socket static (single-channel): api is refused with -ERR command not found; execute playback ${PLAYBACK} replies only after it has run; hangup ends the connection`, async () => {
      const uuid = crypto.randomUUID();
      let peer;
      await traced(async () => {
        peer = await originateToLibrary(uuid, '');
        const info = peer.conn.getInfo();
        assert.equal(info.getHeader('Unique-ID'), uuid);
        assert.equal(info.getHeader('Socket-Mode'), 'static');
        assert.equal(info.getHeader('Control'), 'single-channel');
        // Single-channel control answers only the channel commands; modesl's own
        // subscription (event json ...) is refused like any other, myevents is not.
        const expected = libName === 'modesl'
          ? ['-ERR command not found', '+OK Events Enabled']
          : ['+OK Events Enabled'];
        assert.deepEqual(peer.replies.slice(1).map((r) => replyText(r.event)), expected,
          'the command replies after the connect reply');

        // The refusal is a command/reply, not an api/response, so it is read with sendRecv
        // (the library's api() waits for an api/response).
        assert.equal(replyText(await peer.sendRecv('api echo x')), '-ERR command not found',
          'api on a single-channel outbound connection');

        // Static mode: the message runs on the channel and the +OK waits for the application.
        const run = peer.execute('playback', PLAYBACK);
        const reply = await run.reply;
        assert.equal(replyText(reply.event), '+OK', 'command/reply to sendmsg execute playback');
        const waited = reply.at - run.sentAt;
        assert.ok(waited >= PLAYBACK_MS - 5,
          `the +OK came ${waited.toFixed(1)} ms after the sendmsg; in static mode it should wait for the ${PLAYBACK_MS} ms playback`);
        // Commands are taken in order, so this getvar runs after the +OK: had the +OK come
        // early, the playback would still be running and playback_ms unset.
        assert.equal(replyText(await peer.sendRecv('getvar playback_ms')), String(PLAYBACK_MS),
          'playback_ms right after the +OK (set when the playback ends)');
        const done = await run.complete;
        assert.equal(done.event.getHeader('Application'), 'playback');
        assert.equal(done.event.getHeader('Application-Data'), PLAYBACK);
        assert.equal(done.event.getHeader('Application-UUID'), run.eventUuid);
        assert.equal(done.event.getHeader('Unique-ID'), uuid);

        // Hangup; without linger the server says goodbye and closes.
        const r = await peer.sendRecv('sendmsg', { 'call-command': 'hangup', 'hangup-cause': 'NORMAL_CLEARING' });
        assert.equal(replyText(r), '+OK', 'command/reply to sendmsg call-command: hangup');
        const bye = await peer.wait('notices', () => true, 'the disconnect notice after the hangup');
        assert.equal(bye.event.getHeader('Content-Disposition'), 'disconnect');
        assert.equal(bye.event.getHeader('Controlled-Session-UUID'), uuid);
        assert.equal(bye.event.getBody(), DISCONNECT_MESSAGE);
        await peer.closedWithin('after the hangup of a static session');
        assert.ok(!peer.sent().includes('exit\n'), 'the library never sent exit: the server closed on its own');
        assert.deepEqual(peer.errors, []);
      }, [peer]);
    });

    it('no channels are left and every outbound connection is closed (show channels count -> 0 total)', async () => {
      await traced(async () => {
        const body = await waitChannelCount(ctl, 0);
        assert.equal(channelCount((await ctl.api('show', 'channels count')).getBody()), 0, body);
        assert.equal(outbound.peers.length, 3, 'three calls reached the library\'s esl.Server');
        for (const peer of outbound.peers) {
          assert.notEqual(peer.closedAt, null, `the connection of ${peer.uuid()} should be closed`);
        }
        assert.deepEqual(Object.keys(outbound.srv.connections), [], 'esl.Server tracks no connection any more');
        assert.deepEqual(ctl.errors, []);
      });
      await ctl.traced(() => ctl.disconnect());
    });
  });
}

module.exports = { defineOutboundSuite };
