'use strict';
// Calls interop suite, shared by modesl.test.js and drachtio_modesl.test.js: the same real,
// unmodified ESL client library drives calls on the simulated switch core of an eventsocketd
// that this suite starts for itself (so the channel counts below start from zero).
//
//   originate {origination_uuid=...}loopback/9196 &park()  -> +OK <uuid>
//   CHANNEL_CREATE / CHANNEL_ANSWER for both loopback legs, through the library's emitter
//   show channels [as json | count]
//   bgapi originate null/x &park()  -> BACKGROUND_JOB "+OK <uuid>" on the bgapi callback
//   execute (sendmsg <uuid>) of a dialplan application on an inbound connection
//   uuid_kill <uuid> -> CHANNEL_HANGUP / CHANNEL_HANGUP_COMPLETE, show channels count 0
//   hupall
//
// The tests of one describe block run in order and share the call set up by the first
// ones. Every wait is bounded (STEP_TIMEOUT_MS); a failure carries the wire transcript.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const {
  Daemon, Client, withTimeout, sleep, replyText, STEP_TIMEOUT_MS, SUITE_TIMEOUT_MS,
} = require('./interop_suite');

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CALL_EVENTS = 'CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE';

// Listens on the library's own EventEmitter2 under `pattern` (for instance
// 'esl::event::CHANNEL_CREATE::*' or 'esl::event::CHANNEL_HANGUP::<uuid>') from now on.
// wait(pred) resolves with the first emission, earlier or later, whose event matches;
// each record is { name, event } where name is what the library emitted it as.
function listen(client, pattern) {
  const seen = [];
  let waiters = [];
  const onEmit = function onEmit(event) {
    const rec = { name: this.event, event };  // EventEmitter2 sets this.event
    seen.push(rec);
    waiters = waiters.filter((w) => !w(rec));
  };
  client.conn.on(pattern, onEmit);
  return {
    seen,
    wait(pred, what) {
      const hit = seen.find((rec) => pred(rec.event, rec));
      if (hit) return Promise.resolve(hit);
      return withTimeout(new Promise((resolve) => {
        waiters.push((rec) => {
          if (!pred(rec.event, rec)) return false;
          resolve(rec);
          return true;
        });
      }), STEP_TIMEOUT_MS, `${what} (listening on '${pattern}')`);
    },
    stop() {
      client.conn.removeListener(pattern, onEmit);
    },
  };
}

const header = (name, value) => (e) => e.getHeader(name) === value;

// `show channels count` is "\n<N> total.\n".
function channelCount(body) {
  const m = /^\n?(\d+) total\.\n?$/.exec(body);
  return m ? Number(m[1]) : NaN;
}

// Polls `show channels count` until it reports `want` (hangups finish asynchronously).
async function waitChannelCount(client, want) {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  let body;
  for (;;) {
    body = (await client.api('show', 'channels count')).getBody();
    if (channelCount(body) === want) return body;
    if (Date.now() > deadline) {
      throw new Error(`show channels count did not reach ${want} within ${STEP_TIMEOUT_MS} ms, last: ${JSON.stringify(body)}`);
    }
    await sleep(50);
  }
}

function defineCallsSuite(libName) {
  const esl = require(libName);
  const version = require(`${libName}/package.json`).version;

  describe(`${libName}@${version} calls against eventsocketd`, { timeout: SUITE_TIMEOUT_MS }, () => {
    const daemon = new Daemon(process.env.EVENTSOCKETD);
    const clients = [];
    // The call of this suite: a loopback pair, a-leg uuid chosen here.
    const call = { uuid: crypto.randomUUID(), bUuid: null, up: false };
    let ctl;       // plain, CHANNEL_* + BACKGROUND_JOB + CHANNEL_EXECUTE_COMPLETE; sends the commands
    let watchJson; // json, ALL
    let watchXml;  // xml, CHANNEL_CREATE CHANNEL_HANGUP_COMPLETE

    async function open() {
      const c = new Client(esl, daemon.port);
      c.daemonOutput = () => daemon.output;
      clients.push(c);
      await c.traced(() => c.ready);
      return c;
    }

    function needCall(t) {
      if (!call.up) {
        t.skip('the loopback call of the originate test is not up');
        return false;
      }
      return true;
    }

    before(async () => { await daemon.start(); });

    after(async () => {
      // Whatever a failed test left behind is hung up before the daemon is stopped.
      if (!daemon.exited) {
        try {
          const c = await open();
          await c.api('hupall');
          await waitChannelCount(c, 0);
        } catch (err) {
          process.stderr.write(`note: calls suite cleanup (hupall) failed: ${err.message}\n`);
        }
      }
      for (const c of clients) c.destroy();
      const exitedEarly = daemon.exited;
      await daemon.stop();
      assert.equal(exitedEarly, null,
        `eventsocketd died during the calls suite: ${JSON.stringify(exitedEarly)}\n${daemon.output}`);
    });

    it('subscribes to the channel events (plain on one connection, json ALL and xml on two watchers)', async () => {
      ctl = await open();
      watchJson = await open();
      watchXml = await open();
      await ctl.traced(async () => {
        // modesl appends BACKGROUND_JOB and CHANNEL_EXECUTE_COMPLETE (its required events) to
        // the list itself; drachtio-modesl does not on inbound connections, so they are named.
        const r = await ctl.eventsCmd('plain', `${CALL_EVENTS} BACKGROUND_JOB CHANNEL_EXECUTE_COMPLETE`);
        assert.equal(replyText(r), '+OK event listener enabled plain');
      });
      await watchJson.traced(async () => {
        assert.equal(replyText(await watchJson.eventsCmd('json', 'ALL')), '+OK event listener enabled json');
      });
      await watchXml.traced(async () => {
        assert.equal(replyText(await watchXml.eventsCmd('xml', 'CHANNEL_CREATE CHANNEL_HANGUP_COMPLETE')),
          '+OK event listener enabled xml');
      });
    });

    it('api originate {origination_uuid=...}loopback/9196 &park() -> +OK <uuid>, both legs created and answered', async () => {
      const { uuid } = call;
      // Listeners go on before the command: the events may arrive in the same read as the reply.
      const createA = listen(ctl, `esl::event::CHANNEL_CREATE::${uuid}`);
      const creates = listen(ctl, 'esl::event::CHANNEL_CREATE::*');
      const answers = listen(ctl, 'esl::event::CHANNEL_ANSWER::*');
      try {
        await ctl.traced(async () => {
          const r = await ctl.api('originate', `{origination_uuid=${uuid}}loopback/9196 &park()`);
          assert.equal(r.getHeader('Content-Type'), 'api/response');
          assert.equal(r.getBody(), `+OK ${uuid}\n`);
          call.up = true;

          // a-leg: emitted by the library under its Unique-ID.
          const a = await createA.wait(() => true, `CHANNEL_CREATE of the a-leg ${uuid}`);
          assert.equal(a.name, `esl::event::CHANNEL_CREATE::${uuid}`);
          assert.equal(a.event.getHeader('Event-Name'), 'CHANNEL_CREATE');
          assert.equal(a.event.getHeader('Unique-ID'), uuid);
          assert.equal(a.event.getHeader('Channel-Name'), 'loopback/9196-a');
          assert.equal(a.event.getHeader('Call-Direction'), 'outbound');
          assert.equal(a.event.getHeader('Caller-Destination-Number'), '9196');

          // b-leg: found through the wildcard listener by its channel name.
          const b = await creates.wait(header('Channel-Name', 'loopback/9196-b'), 'CHANNEL_CREATE of loopback/9196-b');
          const bUuid = b.event.getHeader('Unique-ID');
          assert.match(bUuid, UUID_RE);
          assert.notEqual(bUuid, uuid);
          assert.equal(b.name, `esl::event::CHANNEL_CREATE::${bUuid}`);
          assert.equal(b.event.getHeader('Call-Direction'), 'inbound');
          assert.equal(b.event.getHeader('variable_other_loopback_leg_uuid'), uuid);
          assert.equal(b.event.getHeader('Caller-Destination-Number'), '9196');
          call.bUuid = bUuid;

          for (const [leg, name] of [[uuid, 'loopback/9196-a'], [bUuid, 'loopback/9196-b']]) {
            const ans = await answers.wait(header('Unique-ID', leg), `CHANNEL_ANSWER of ${name}`);
            assert.equal(ans.name, `esl::event::CHANNEL_ANSWER::${leg}`);
            assert.equal(ans.event.getHeader('Channel-Name'), name);
            assert.equal(ans.event.getHeader('Answer-State'), 'answered');
          }
          // Per leg, CHANNEL_CREATE comes before CHANNEL_ANSWER on the connection.
          for (const leg of [uuid, bUuid]) {
            const order = ctl.events
              .filter((rec) => rec.event.getHeader('Unique-ID') === leg)
              .map((rec) => rec.event.getHeader('Event-Name'));
            assert.ok(order.indexOf('CHANNEL_CREATE') >= 0
              && order.indexOf('CHANNEL_CREATE') < order.indexOf('CHANNEL_ANSWER'), `event order for ${leg}: ${order}`);
          }
          assert.deepEqual(ctl.errors, []);
        });

        // The json ALL watcher sees the same channels, and the applications start: park on
        // the a-leg, the 9196 extension's echo on the b-leg.
        await watchJson.traced(async () => {
          const j = await watchJson.waitEvent((e) => e.getHeader('Event-Name') === 'CHANNEL_CREATE'
            && e.getHeader('Unique-ID') === uuid, 'json CHANNEL_CREATE of the a-leg');
          assert.equal(j.type, 'text/event-json');
          assert.equal(j.event.getHeader('Channel-Name'), 'loopback/9196-a');
          await watchJson.waitEvent((e) => e.getHeader('Event-Name') === 'CHANNEL_EXECUTE'
            && e.getHeader('Unique-ID') === uuid && e.getHeader('Application') === 'park', 'json CHANNEL_EXECUTE park on the a-leg');
          await watchJson.waitEvent((e) => e.getHeader('Event-Name') === 'CHANNEL_EXECUTE'
            && e.getHeader('Unique-ID') === call.bUuid && e.getHeader('Application') === 'echo', 'json CHANNEL_EXECUTE echo on the b-leg');
        });
        await watchXml.traced(async () => {
          const x = await watchXml.waitEvent((e) => e.getHeader('Event-Name') === 'CHANNEL_CREATE'
            && e.getHeader('Unique-ID') === uuid, 'xml CHANNEL_CREATE of the a-leg');
          assert.equal(x.type, 'text/event-xml');
          assert.equal(decodeURIComponent(x.event.getHeader('Channel-Name')), 'loopback/9196-a');
        });
      } finally {
        createA.stop();
        creates.stop();
        answers.stop();
      }
    });

    it('show channels as json / count / plain list both legs', async (t) => {
      if (!needCall(t)) return;
      const { uuid, bUuid } = call;
      await ctl.traced(async () => {
        const json = await ctl.api('show', 'channels as json');
        const parsed = JSON.parse(json.getBody());
        assert.equal(parsed.row_count, 2);
        assert.equal(parsed.rows.length, 2);
        const byUuid = Object.fromEntries(parsed.rows.map((row) => [row.uuid, row]));
        assert.deepEqual(Object.keys(byUuid).sort(), [uuid, bUuid].sort());
        const a = byUuid[uuid];
        const b = byUuid[bUuid];
        assert.equal(a.name, 'loopback/9196-a');
        assert.equal(a.direction, 'outbound');
        assert.equal(a.dest, '9196');
        assert.equal(a.application, 'park');
        assert.equal(a.state, 'CS_EXECUTE');
        assert.equal(a.callstate, 'ACTIVE');
        assert.equal(b.name, 'loopback/9196-b');
        assert.equal(b.direction, 'inbound');
        assert.equal(b.application, 'echo');
        assert.equal(b.callstate, 'ACTIVE');

        const count = await ctl.api('show', 'channels count');
        assert.ok(count.getBody().includes('2 total.'), `show channels count: ${JSON.stringify(count.getBody())}`);
        assert.equal(channelCount(count.getBody()), 2);

        const plain = (await ctl.api('show', 'channels')).getBody();
        const lines = plain.split('\n');
        assert.match(lines[0], /^uuid,direction,created,created_epoch,name,state,/);
        assert.ok(lines.some((l) => l.startsWith(`${uuid},outbound,`) && l.includes(',loopback/9196-a,')), plain);
        assert.ok(lines.some((l) => l.startsWith(`${bUuid},inbound,`) && l.includes(',loopback/9196-b,')), plain);
        assert.ok(plain.endsWith('\n2 total.\n'), plain);

        assert.equal((await ctl.api('uuid_exists', uuid)).getBody(), 'true');
        assert.deepEqual(ctl.errors, []);
      });
    });

    // mod_commands runs "select * from channels where ... uuid like '%<s>%' or name like
    // '%<s>%' or cid_name like '%<s>%' or cid_num like '%<s>%' or presence_data like '%<s>%'".
    it('show channels like <match string> lists only the matching channels', async (t) => {
      if (!needCall(t)) return;
      const plain = (await ctl.api('show', 'channels like 9196-b')).getBody();
      const rows = plain.split('\n').slice(1).filter((l) => UUID_RE.test(l.split(',')[0]));
      assert.deepEqual(rows.map((l) => l.split(',')[0]), [call.bUuid],
        `"show channels like 9196-b" should list only loopback/9196-b, got ${rows.length} rows:\n${plain}`);
      assert.ok(plain.endsWith('\n1 total.\n'), plain);
    });

    it('bgapi originate null/x &park() -> BACKGROUND_JOB "+OK <uuid>" on the callback of its Job-UUID', async (t) => {
      if (!needCall(t)) return;
      const creates = listen(ctl, 'esl::event::CHANNEL_CREATE::*');
      const completes = listen(ctl, 'esl::event::CHANNEL_HANGUP_COMPLETE::*');
      try {
        await ctl.traced(async () => {
          // Two jobs in flight, one with a caller-chosen Job-UUID; each callback gets its own result.
          const busyJob = `interop-busy-${libName}-${Date.now()}`;
          const [ok, busy] = await Promise.all([
            ctl.bgapi('originate', 'null/x &park()'),
            ctl.bgapi('originate', 'error/USER_BUSY &park()', busyJob),
          ]);
          assert.equal(ok.getHeader('Event-Name'), 'BACKGROUND_JOB');
          assert.equal(ok.getHeader('Job-Command'), 'originate');
          assert.equal(ok.getHeader('Job-Command-Arg'), 'null/x &park()');
          const m = /^\+OK (\S+)\n$/.exec(ok.getBody());
          assert.ok(m, `BACKGROUND_JOB body: ${JSON.stringify(ok.getBody())}`);
          const nullUuid = m[1];
          assert.match(nullUuid, UUID_RE);
          assert.equal(busy.getHeader('Job-UUID'), busyJob);
          assert.equal(busy.getBody(), '-ERR USER_BUSY\n');
          assert.notEqual(ok.getHeader('Job-UUID'), busyJob);

          const created = await creates.wait(header('Unique-ID', nullUuid), `CHANNEL_CREATE of ${nullUuid}`);
          assert.equal(created.event.getHeader('Channel-Name'), 'null/x');
          assert.equal(created.name, `esl::event::CHANNEL_CREATE::${nullUuid}`);
          assert.equal(channelCount((await ctl.api('show', 'channels count')).getBody()), 3);

          // It goes away with uuid_kill; the loopback pair stays.
          assert.equal((await ctl.api('uuid_kill', nullUuid)).getBody(), '+OK\n');
          const done = await completes.wait(header('Unique-ID', nullUuid), `CHANNEL_HANGUP_COMPLETE of ${nullUuid}`);
          assert.equal(done.event.getHeader('Hangup-Cause'), 'NORMAL_CLEARING');
          await waitChannelCount(ctl, 2);
          assert.deepEqual(ctl.errors, []);
        });
      } finally {
        creates.stop();
        completes.stop();
      }
    });

    it('execute (sendmsg <uuid>) runs an application on the call and reports CHANNEL_EXECUTE_COMPLETE', async (t) => {
      if (!needCall(t)) return;
      const { uuid } = call;
      const value = `${libName}-executed`;
      await ctl.traced(async () => {
        // The library sends "sendmsg <uuid>" with send() (no reply callback) and calls back on
        // the CHANNEL_EXECUTE_COMPLETE whose Application-UUID is the Event-UUID it sent.
        const reply = withTimeout(new Promise((resolve) => ctl.conn.once('esl::event::command::reply', resolve)),
          STEP_TIMEOUT_MS, 'command/reply to sendmsg');
        let eventUuid;
        const complete = withTimeout(new Promise((resolve) => {
          eventUuid = ctl.conn.execute('set', `interop_exec=${value}`, uuid, resolve);
        }), STEP_TIMEOUT_MS, 'CHANNEL_EXECUTE_COMPLETE for execute set');
        assert.equal(replyText(await reply), '+OK');
        const evt = await complete;
        assert.equal(evt.getHeader('Event-Name'), 'CHANNEL_EXECUTE_COMPLETE');
        assert.equal(evt.getHeader('Unique-ID'), uuid);
        assert.equal(evt.getHeader('Application'), 'set');
        assert.equal(evt.getHeader('Application-Data'), `interop_exec=${value}`);
        assert.equal(evt.getHeader('Application-UUID'), eventUuid);
        const sent = ctl.wire.filter((w) => w.dir === '>').map((w) => w.data.toString()).join('');
        assert.ok(sent.includes(`sendmsg ${uuid}\n`), 'library sent sendmsg <uuid>');
        assert.equal((await ctl.api('uuid_getvar', `${uuid} interop_exec`)).getBody(), value);

        // A uuid that names no channel: the reply says so and no application runs.
        const missing = crypto.randomUUID();
        const bad = withTimeout(new Promise((resolve) => ctl.conn.once('esl::event::command::reply', resolve)),
          STEP_TIMEOUT_MS, 'command/reply to sendmsg for a missing channel');
        ctl.conn.execute('set', 'interop_exec=never', missing, () => {});
        assert.equal(replyText(await bad), `-ERR invalid session id [${missing}]`);
        assert.deepEqual(ctl.errors, []);
      });
    });

    it('api uuid_kill <uuid> -> +OK, CHANNEL_HANGUP and CHANNEL_HANGUP_COMPLETE, no channels left', async (t) => {
      if (!needCall(t)) return;
      const { uuid, bUuid } = call;
      const hangupA = listen(ctl, `esl::event::CHANNEL_HANGUP::${uuid}`);
      const completeA = listen(ctl, `esl::event::CHANNEL_HANGUP_COMPLETE::${uuid}`);
      const completes = listen(ctl, 'esl::event::CHANNEL_HANGUP_COMPLETE::*');
      try {
        await ctl.traced(async () => {
          const r = await ctl.api('uuid_kill', uuid);
          assert.equal(r.getBody(), '+OK\n');
          call.up = false;

          const h = await hangupA.wait(() => true, `CHANNEL_HANGUP of ${uuid}`);
          assert.equal(h.event.getHeader('Event-Name'), 'CHANNEL_HANGUP');
          assert.equal(h.event.getHeader('Unique-ID'), uuid);
          assert.equal(h.event.getHeader('Channel-Name'), 'loopback/9196-a');
          assert.equal(h.event.getHeader('Hangup-Cause'), 'NORMAL_CLEARING');

          const c = await completeA.wait(() => true, `CHANNEL_HANGUP_COMPLETE of ${uuid}`);
          assert.equal(c.event.getHeader('Event-Name'), 'CHANNEL_HANGUP_COMPLETE');
          assert.equal(c.event.getHeader('Unique-ID'), uuid);
          assert.equal(c.event.getHeader('Hangup-Cause'), 'NORMAL_CLEARING');

          // The loopback b-leg goes down with it.
          const cb = await completes.wait(header('Unique-ID', bUuid), `CHANNEL_HANGUP_COMPLETE of the b-leg ${bUuid}`);
          assert.equal(cb.event.getHeader('Channel-Name'), 'loopback/9196-b');
          assert.equal(cb.event.getHeader('Hangup-Cause'), 'NORMAL_CLEARING');

          const order = ctl.events.filter((rec) => rec.event.getHeader('Unique-ID') === uuid)
            .map((rec) => rec.event.getHeader('Event-Name'));
          assert.ok(order.indexOf('CHANNEL_HANGUP') >= 0
            && order.indexOf('CHANNEL_HANGUP') < order.indexOf('CHANNEL_HANGUP_COMPLETE'), `event order: ${order}`);

          const body = await waitChannelCount(ctl, 0);
          assert.ok(body.includes('0 total.'));
          assert.equal(JSON.parse((await ctl.api('show', 'channels as json')).getBody()).row_count, 0);
          assert.equal((await ctl.api('uuid_exists', uuid)).getBody(), 'false');
          assert.equal((await ctl.api('uuid_kill', uuid)).getBody(), '-ERR No such channel!\n');
          assert.deepEqual(ctl.errors, []);
        });
        await watchJson.traced(async () => {
          const j = await watchJson.waitEvent((e) => e.getHeader('Event-Name') === 'CHANNEL_HANGUP_COMPLETE'
            && e.getHeader('Unique-ID') === uuid, 'json CHANNEL_HANGUP_COMPLETE of the a-leg');
          assert.equal(j.event.getHeader('Hangup-Cause'), 'NORMAL_CLEARING');
        });
        await watchXml.traced(async () => {
          const x = await watchXml.waitEvent((e) => e.getHeader('Event-Name') === 'CHANNEL_HANGUP_COMPLETE'
            && e.getHeader('Unique-ID') === uuid, 'xml CHANNEL_HANGUP_COMPLETE of the a-leg');
          // FreeSWITCH puts Hangup-Cause in CHANNEL_HANGUP_COMPLETE twice (once before the
          // channel data, once in it); the libraries' xml2js parsing makes that an array.
          const causes = [].concat(x.event.getHeader('Hangup-Cause'));
          assert.ok(causes.length >= 1 && causes.every((v) => v === 'NORMAL_CLEARING'), `Hangup-Cause: ${causes}`);
        });
      } finally {
        hangupA.stop();
        completeA.stop();
        completes.stop();
      }
    });

    it('originate failures come back as -ERR <cause>', async () => {
      const c = ctl || await open();
      await c.traced(async () => {
        assert.equal((await c.api('originate', 'error/USER_BUSY &park()')).getBody(), '-ERR USER_BUSY\n');
        assert.equal((await c.api('originate', 'loopback/no-such-extension &park()')).getBody(),
          '-ERR NO_ROUTE_DESTINATION\n');
        await waitChannelCount(c, 0);
      });
    });

    it('hupall hangs up every remaining call (MANAGER_REQUEST)', async () => {
      const c = ctl || await open();
      const completes = listen(c, 'esl::event::CHANNEL_HANGUP_COMPLETE::*');
      try {
        await c.traced(async () => {
          const u1 = crypto.randomUUID();
          const u2 = crypto.randomUUID();
          assert.equal((await c.api('originate', `{origination_uuid=${u1}}loopback/9196 &park()`)).getBody(), `+OK ${u1}\n`);
          assert.equal((await c.api('originate', `{origination_uuid=${u2}}null/hupall &park()`)).getBody(), `+OK ${u2}\n`);
          await waitChannelCount(c, 3);
          assert.equal((await c.api('hupall')).getBody(), '+OK hangup all channels with cause MANAGER_REQUEST\n');
          for (const u of [u1, u2]) {
            const done = await completes.wait(header('Unique-ID', u), `CHANNEL_HANGUP_COMPLETE of ${u}`);
            assert.equal(done.event.getHeader('Hangup-Cause'), 'MANAGER_REQUEST');
          }
          await waitChannelCount(c, 0);
          assert.deepEqual(c.errors, []);
        });
      } finally {
        completes.stop();
      }
      await c.traced(() => c.disconnect());
    });
  });
}

module.exports = {
  defineCallsSuite,
  // Shared with outbound_suite.js.
  channelCount,
  waitChannelCount,
};
