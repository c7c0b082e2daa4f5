'use strict';
// Interop suite shared by modesl.test.js and drachtio_modesl.test.js: drives a real,
// unmodified third-party ESL client library from the npm registry against an eventsocketd
// that the suite starts itself on a free 127.0.0.1 port (binary taken from $EVENTSOCKETD).
//
// Every wait is bounded: a misbehaving server makes a test fail with a timeout and a dump
// of the bytes exchanged on that connection, never hang.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

const HOST = '127.0.0.1';
const PASSWORD = 'ClueCon';
const STEP_TIMEOUT_MS = 5000;      // any single reply / event
const STARTUP_TIMEOUT_MS = 15000;  // daemon accepting connections
const SUITE_TIMEOUT_MS = 120000;   // the whole describe block

// Header values the libraries must hand back byte for byte. The sendevent route carries
// the value in a raw header line, where FreeSWITCH strips leading spaces only (PROTOCOL.md
// §3.2 step 4), so it may end in spaces and contain ',' and '='. The `api event` route
// splits on ',' and its argument is whitespace-trimmed, hence the smaller alphabet.
// '%' is never followed by two uppercase hex digits: FreeSWITCH deliberately leaves such
// a sequence unencoded (EVENTS.md §4), so it would not round-trip through any client.
const VALUE_SENDEVENT = 'a  b   c &;:"<>#?@%+/ d=e,f x%zz 50% "quoted" <tag> #frag ?q @at +plus /slash  ';
const VALUE_API = 'api  route &;:"<>#?@%+/ x%zz 50% "quoted" <tag> end';
const VALUE_UTF8 = 'caf\u00e9 \u260e \u{1F600}';

const DISCONNECT_MESSAGE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

// FreeSWITCH's switch_url_encode as specified in EVENTS.md §4, used to check the text the
// libraries expose for text/event-xml (they do not URL-decode XML header text).
function fsUrlEncode(value) {
  const bytes = Buffer.from(value, 'utf8');
  const special = new Set(Buffer.from('\r\n #%&+:;<=>?@[\\]^`{|}"', 'latin1'));
  const hex = new Set(Buffer.from('0123456789ABCDEF', 'latin1'));
  let out = '';
  for (let i = 0; i < bytes.length; ++i) {
    const b = bytes[i];
    if (b === 0x25 && i + 2 < bytes.length && hex.has(bytes[i + 1]) && hex.has(bytes[i + 2])) {
      out += '%';
    } else if (b < 0x20 || b > 0x7e || special.has(b)) {
      out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
    } else {
      out += String.fromCharCode(b);
    }
  }
  return out;
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function tryConnect(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: HOST, port });
    const done = (ok) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(1000, () => done(false));
    // The greeting proves the daemon is really serving, not just that the port is bound.
    sock.once('data', (d) => done(d.toString('latin1').startsWith('Content-Type: auth/request')));
    sock.once('error', () => done(false));
  });
}

class Daemon {
  constructor(binary) {
    this.binary = binary;
    this.output = '';
    this.proc = null;
    this.port = 0;
    this.exited = null;
  }

  async start() {
    if (!this.binary) throw new Error('EVENTSOCKETD is not set (path to the eventsocketd binary)');
    if (!fs.existsSync(this.binary)) throw new Error(`EVENTSOCKETD=${this.binary} does not exist`);
    const conf = process.env.EVENTSOCKETD_CONF || path.resolve(__dirname, '..', '..', 'conf');
    for (let attempt = 0; attempt < 3; ++attempt) {
      this.port = await freePort();
      this.output = '';
      this.exited = null;
      this.proc = spawn(this.binary, ['--conf', conf, '--listen-port', String(this.port), '--log-level', 'warning'],
        { stdio: ['ignore', 'pipe', 'pipe'] });
      this.proc.stdout.on('data', (d) => { this.output += d; });
      this.proc.stderr.on('data', (d) => { this.output += d; });
      const exitedP = new Promise((resolve) => {
        this.proc.once('exit', (code, signal) => { this.exited = { code, signal }; resolve(); });
        this.proc.once('error', (err) => { this.exited = { error: err.message }; resolve(); });
      });
      this.exitedP = exitedP;
      const deadline = Date.now() + STARTUP_TIMEOUT_MS;
      while (Date.now() < deadline && !this.exited) {
        if (await tryConnect(this.port)) return;
        await sleep(50);
      }
      if (!this.exited) {
        await this.stop();
        throw new Error(`eventsocketd did not accept on ${HOST}:${this.port} within ${STARTUP_TIMEOUT_MS} ms\n${this.output}`);
      }
      // Exited early: most likely the port was taken between probe and bind; retry.
    }
    throw new Error(`eventsocketd exited during startup: ${JSON.stringify(this.exited)}\n${this.output}`);
  }

  async stop() {
    if (!this.proc || this.exited) return;
    this.proc.kill('SIGTERM');
    try {
      await withTimeout(this.exitedP, 5000, 'eventsocketd to exit after SIGTERM');
    } catch {
      this.proc.kill('SIGKILL');
      await withTimeout(this.exitedP, 5000, 'eventsocketd to exit after SIGKILL').catch(() => {});
    }
  }
}

function printable(buf) {
  return JSON.stringify(buf.toString('utf8'));
}

// One library connection plus everything needed to make assertions and report failures.
class Client {
  constructor(esl, port, { password = PASSWORD } = {}) {
    this.wire = [];          // [{dir: '>'|'<', data: Buffer}]
    this.errors = [];
    this.events = [];        // [{event, headers, body}] for text/event-* packets
    this.waiters = [];
    this.notices = [];
    this.ended = false;
    this.conn = new esl.Connection(HOST, port, password);
    // drachtio-modesl reconnects an inbound connection that ends unless it was closed by
    // disconnect(); the suite closes every connection itself, so no reconnect is wanted.
    this.conn.closing = true;
    this.conn.on('error', (err) => { this.errors.push(err); });
    const sock = this.conn.socket;
    this.sock = sock;  // the libraries null conn.socket on disconnect()
    const origWrite = sock.write.bind(sock);
    sock.write = (data, ...rest) => {
      this.wire.push({ dir: '>', data: Buffer.from(data) });
      return origWrite(data, ...rest);
    };
    sock.on('data', (d) => this.wire.push({ dir: '<', data: Buffer.from(d) }));
    sock.on('close', () => { this.ended = true; });
    this.conn.on('esl::event::**', (event, headers, body) => {
      const type = headers && headers['Content-Type'];
      if (typeof type === 'string' && type.startsWith('text/event-')) {
        const rec = { event, headers, body, type };
        this.events.push(rec);
        this.waiters = this.waiters.filter((w) => !w.match(rec));
      }
    });
    this.conn.on('esl::event::disconnect::notice', (event) => this.notices.push(event));
    this.ready = withTimeout(new Promise((resolve, reject) => {
      this.conn.once('esl::ready', () => resolve());
      this.conn.once('esl::event::auth::fail', (evt) => reject(Object.assign(
        new Error(`auth failed: ${evt && evt.getHeader('Reply-Text')}`), { authFail: evt })));
      this.conn.once('error', reject);
    }), STEP_TIMEOUT_MS, 'auth/request + auth reply');
    this.ready.catch(() => {});
  }

  transcript() {
    return this.wire.map((w) => `${w.dir} ${printable(w.data)}`).join('\n');
  }

  // Rethrow with the bytes exchanged appended, so a server bug can be reported exactly.
  async traced(fn) {
    try {
      return await fn();
    } catch (err) {
      let extra = `\n--- wire transcript (> client to server, < server to client) ---\n${this.transcript()}`;
      const daemonOutput = this.daemonOutput ? this.daemonOutput() : '';
      if (daemonOutput) extra += `\n--- eventsocketd output ---\n${daemonOutput}`;
      if (err instanceof Error) {
        err.message += extra;
        // The test reporter prints err.stack, which was captured with the original message.
        if (typeof err.stack === 'string') err.stack += extra;
      }
      throw err;
    }
  }

  api(command, args) {
    return withTimeout(new Promise((resolve) => this.conn.api(command, args, (evt) => resolve(evt))),
      STEP_TIMEOUT_MS, `api/response to "api ${command} ${args || ''}"`);
  }

  bgapi(command, args, jobid) {
    return withTimeout(new Promise((resolve) => {
      if (jobid) this.conn.bgapi(command, args, jobid, (evt) => resolve(evt));
      else this.conn.bgapi(command, args, (evt) => resolve(evt));
    }), STEP_TIMEOUT_MS, `BACKGROUND_JOB for "bgapi ${command} ${args || ''}"`);
  }

  sendRecv(command) {
    return withTimeout(new Promise((resolve) => this.conn.sendRecv(command, (evt) => resolve(evt))),
      STEP_TIMEOUT_MS, `command/reply to "${command}"`);
  }

  eventsCmd(format, names) {
    return withTimeout(new Promise((resolve) => this.conn.events(format, names, (evt) => resolve(evt))),
      STEP_TIMEOUT_MS, `command/reply to "event ${format} ${names}"`);
  }

  filter(header, value) {
    return withTimeout(new Promise((resolve) => this.conn.filter(header, value, (evt) => resolve(evt))),
      STEP_TIMEOUT_MS, `command/reply to "filter ${header} ${value}"`);
  }

  filterDelete(header, value) {
    return withTimeout(new Promise((resolve) => {
      if (value === undefined) this.conn.filterDelete(header, (evt) => resolve(evt));
      else this.conn.filterDelete(header, value, (evt) => resolve(evt));
    }), STEP_TIMEOUT_MS, `command/reply to "filter delete ${header} ${value || ''}"`);
  }

  sendEvent(event) {
    return withTimeout(new Promise((resolve) => this.conn.sendEvent(event, (evt) => resolve(evt))),
      STEP_TIMEOUT_MS, 'command/reply to sendevent');
  }

  // Resolves with the first event packet (already received or arriving later) for which
  // pred(event) is true.
  waitEvent(pred, what) {
    const found = this.events.find((rec) => pred(rec.event, rec));
    if (found) return Promise.resolve(found);
    return withTimeout(new Promise((resolve) => {
      this.waiters.push({
        match: (rec) => {
          if (!pred(rec.event, rec)) return false;
          resolve(rec);
          return true;
        },
      });
    }), STEP_TIMEOUT_MS, what);
  }

  clearEvents() {
    this.events = [];
  }

  disconnect() {
    const ended = new Promise((resolve) => {
      if (this.ended) resolve();
      else this.sock.once('close', resolve);
    });
    this.conn.disconnect();
    return withTimeout(ended, STEP_TIMEOUT_MS, 'the server to close the connection after "exit"');
  }

  destroy() {
    this.conn.closing = true;
    this.sock.destroy();
    if (this.conn.socket && this.conn.socket !== this.sock) this.conn.socket.destroy();
  }
}

function replyText(evt) {
  return evt.getHeader('Reply-Text');
}

function defineSuite(libName) {
  const esl = require(libName);
  const version = require(`${libName}/package.json`).version;

  describe(`${libName}@${version} against eventsocketd`, { timeout: SUITE_TIMEOUT_MS }, () => {
    const daemon = new Daemon(process.env.EVENTSOCKETD);
    const clients = [];
    let seq = 0;

    async function open(opts) {
      const c = new Client(esl, daemon.port, opts);
      c.daemonOutput = () => daemon.output;
      clients.push(c);
      if (!opts || !opts.noWait) await c.traced(() => c.ready);
      return c;
    }

    before(async () => { await daemon.start(); });

    after(async () => {
      for (const c of clients) c.destroy();
      const exitedEarly = daemon.exited;
      await daemon.stop();
      assert.equal(exitedEarly, null,
        `eventsocketd died during the suite: ${JSON.stringify(exitedEarly)}\n${daemon.output}`);
      if (!daemon.exited || daemon.exited.code !== 0) {
        // Not an interop failure, but worth seeing (e.g. a sanitizer report at exit).
        process.stderr.write(`note: eventsocketd did not exit 0 on SIGTERM: ${JSON.stringify(daemon.exited)}\n${daemon.output}\n`);
      }
    });

    it('connects and authenticates (auth/request -> auth ClueCon -> +OK accepted)', async () => {
      const c = await open();
      assert.equal(c.conn.authed, true);
      assert.equal(c.conn.connected(), true);
      assert.deepEqual(c.errors, []);
    });

    it('reports a wrong password through the library\'s auth::fail', async () => {
      const c = await open({ password: 'not-the-password', noWait: true });
      await c.traced(async () => {
        const err = await c.ready.then(() => null, (e) => e);
        assert.ok(err && err.authFail, `expected auth::fail, got ${err}`);
        assert.equal(replyText(err.authFail), '-ERR invalid');
        await withTimeout(new Promise((resolve) => {
          if (c.ended) resolve(); else c.sock.once('close', resolve);
        }), STEP_TIMEOUT_MS, 'the server to close after -ERR invalid');
        assert.equal(c.notices.length, 1, 'one text/disconnect-notice');
        assert.equal(c.notices[0].getBody(), DISCONNECT_MESSAGE);
      });
    });

    it('api status and api echo return the command output as the body', async () => {
      const c = await open();
      await c.traced(async () => {
        const status = await c.api('status');
        const body = status.getBody();
        assert.equal(status.getHeader('Content-Type'), 'api/response');
        assert.match(body, /^UP \d+ years?, \d+ days?, \d+ hours?, \d+ minutes?, \d+ seconds?, /);
        assert.match(body, /is ready\n/);
        assert.match(body, /session\(s\) since startup/);

        const text = 'hello  interop &;:"<>#?@%+/ world';
        const echo = await c.api('echo', text);
        assert.equal(echo.getBody(), text);

        // Pipelined api calls: the library matches replies by order.
        const [a, b, d] = await Promise.all([c.api('echo', 'first'), c.api('echo', 'second'), c.api('echo', 'third')]);
        assert.deepEqual([a.getBody(), b.getBody(), d.getBody()], ['first', 'second', 'third']);

        const unknown = await c.api('no_such_command', 'x');
        assert.equal(unknown.getBody(), '-ERR no_such_command Command not found!\n');
        assert.deepEqual(c.errors, []);
      });
    });

    it('bgapi delivers the BACKGROUND_JOB body to the callback of the matching Job-UUID', async () => {
      const c = await open();
      await c.traced(async () => {
        if (libName === 'drachtio-modesl') {
          // drachtio-modesl does not auto-subscribe on inbound connections (modesl sends
          // "event json BACKGROUND_JOB CHANNEL_EXECUTE_COMPLETE" right after auth). As in
          // FreeSWITCH, BACKGROUND_JOB only reaches subscribed connections (PROTOCOL.md §8.10).
          const r = await c.eventsCmd('json', 'BACKGROUND_JOB');
          assert.equal(replyText(r), '+OK event listener enabled json');
        }
        const job = await c.bgapi('echo', 'hello');
        assert.equal(job.getBody(), 'hello');
        assert.equal(job.getHeader('Event-Name'), 'BACKGROUND_JOB');
        assert.equal(job.getHeader('Job-Command'), 'echo');
        assert.equal(job.getHeader('Job-Command-Arg'), 'hello');
        assert.match(job.getHeader('Job-UUID'), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

        // The Job-UUID the library generated went out as a header and came back unchanged.
        const sent = c.wire.filter((w) => w.dir === '>').map((w) => w.data.toString()).join('');
        assert.ok(sent.includes(`Job-UUID: ${job.getHeader('Job-UUID')}\n`), 'library sent the Job-UUID header');

        // Several jobs in flight, one with a caller-chosen id: each callback gets its own body.
        const [j1, j2, j3] = await Promise.all([
          c.bgapi('echo', 'job one'),
          c.bgapi('echo', 'job two', `interop-job-${libName}-${Date.now()}`),
          c.bgapi('echo', 'job three'),
        ]);
        assert.deepEqual([j1.getBody(), j2.getBody(), j3.getBody()], ['job one', 'job two', 'job three']);
        assert.match(j2.getHeader('Job-UUID'), /^interop-job-/);
        assert.equal(new Set([j1, j2, j3].map((j) => j.getHeader('Job-UUID'))).size, 3);

        // The command/reply of bgapi carries the same id (extended reply form).
        const replies = c.wire.filter((w) => w.dir === '<').map((w) => w.data.toString()).join('');
        assert.ok(replies.includes(`Reply-Text: +OK Job-UUID: ${j2.getHeader('Job-UUID')}\nJob-UUID: ${j2.getHeader('Job-UUID')}\n\n`));
        assert.deepEqual(c.errors, []);
      });
    });

    for (const format of ['plain', 'json', 'xml']) {
      it(`events ${format} ALL: a CUSTOM event's header values come back intact`, async () => {
        const c = await open();
        await c.traced(async () => {
          const r = await c.eventsCmd(format, 'ALL');
          assert.equal(replyText(r), `+OK event listener enabled ${format}`);
          const subclass = `interop::${format}`;

          // 1) sendevent built with the library's own Event object.
          const tag = `sendevent-${++seq}`;
          const out = new esl.Event('CUSTOM', subclass);
          out.addHeader('X-Interop-Tag', tag);
          out.addHeader('X-Interop-Value', VALUE_SENDEVENT);
          out.addHeader('X-Interop-Utf8', VALUE_UTF8);
          const reply = await c.sendEvent(out);
          const m = /^\+OK (\S+)$/.exec(replyText(reply) || '');
          assert.ok(m, `sendevent reply: ${replyText(reply)}`);
          const got = await c.waitEvent((e) => e.getHeader('X-Interop-Tag') === tag, `the ${format} CUSTOM event ${tag}`);
          assert.equal(got.type, `text/event-${format}`);
          const ev = got.event;
          // In XML every header text is URL-encoded (see below).
          const text = (v) => (format === 'xml' ? decodeURIComponent(v) : v);
          assert.equal(text(ev.getHeader('Event-Subclass')), subclass);
          assert.equal(ev.getHeader('Event-UUID'), m[1]);
          if (format === 'xml') {
            // The libraries hand XML header text over as is; FreeSWITCH URL-encodes it
            // (EVENTS.md §6), so the exact encoding is checked and then decoded.
            assert.equal(ev.getHeader('X-Interop-Value'), fsUrlEncode(VALUE_SENDEVENT));
            assert.equal(decodeURIComponent(ev.getHeader('X-Interop-Value')), VALUE_SENDEVENT);
            assert.equal(decodeURIComponent(ev.getHeader('X-Interop-Utf8')), VALUE_UTF8);
          } else {
            assert.equal(ev.getHeader('X-Interop-Value'), VALUE_SENDEVENT);
            assert.equal(ev.getHeader('X-Interop-Utf8'), VALUE_UTF8);
          }

          // 2) raw `api event CUSTOM <subclass> h=v,...`.
          const tag2 = `api-${++seq}`;
          const apiReply = await c.api('event', `CUSTOM ${subclass} X-Interop-Tag=${tag2},X-Interop-Value=${VALUE_API}`);
          assert.equal(apiReply.getBody(), '+OK');
          const got2 = await c.waitEvent((e) => e.getHeader('X-Interop-Tag') === tag2, `the ${format} CUSTOM event ${tag2}`);
          assert.equal(text(got2.event.getHeader('Event-Subclass')), subclass);
          assert.equal(got2.event.getHeader('Event-Name'), 'CUSTOM');
          const v2 = got2.event.getHeader('X-Interop-Value');
          if (format === 'xml') {
            assert.equal(v2, fsUrlEncode(VALUE_API));
            assert.equal(decodeURIComponent(v2), VALUE_API);
          } else {
            assert.equal(v2, VALUE_API);
          }
          assert.deepEqual(c.errors, []);
        });
      });
    }

    it('filter and filter delete change which events arrive', async () => {
      const c = await open();
      await c.traced(async () => {
        assert.equal(replyText(await c.eventsCmd('plain', 'ALL')), '+OK event listener enabled plain');
        const fire = async (subclass) => {
          const tag = `filter-${++seq}`;
          const e = new esl.Event('CUSTOM', subclass);
          e.addHeader('X-Interop-Tag', tag);
          const r = await c.sendEvent(e);
          assert.match(replyText(r), /^\+OK /);
          return tag;
        };
        const seen = (tag) => c.events.some((rec) => rec.event.getHeader('X-Interop-Tag') === tag);
        const arrives = (tag) => c.waitEvent((e) => e.getHeader('X-Interop-Tag') === tag, `event ${tag}`);

        // No filter: both subclasses arrive.
        let drop = await fire('interop::drop');
        let keep = await fire('interop::keep');
        await arrives(drop);
        await arrives(keep);

        // With a filter only the matching one arrives. Events from this connection are
        // queued in order, so once the later "keep" event is here the earlier "drop" event
        // would have been too.
        const add = await c.filter('Event-Subclass', 'interop::keep');
        assert.equal(replyText(add), '+OK filter added. [Event-Subclass]=[interop::keep]');
        c.clearEvents();
        drop = await fire('interop::drop');
        keep = await fire('interop::keep');
        await arrives(keep);
        assert.equal(seen(drop), false, 'filtered-out event was delivered');
        // Events without the filtered header (e.g. the API event of an api call) are held back too.
        await c.api('echo', 'while-filtered');
        const sentinel = await fire('interop::keep');
        await arrives(sentinel);
        assert.equal(c.events.some((rec) => rec.event.getHeader('Event-Name') === 'API'), false,
          'API event delivered despite the Event-Subclass filter');

        // filter delete <name> <value>: everything arrives again.
        const del = await c.filterDelete('Event-Subclass', 'interop::keep');
        assert.equal(replyText(del), '+OK filter deleted. [Event-Subclass][interop::keep]');
        c.clearEvents();
        drop = await fire('interop::drop');
        keep = await fire('interop::keep');
        await arrives(drop);
        await arrives(keep);

        // A negative filter vetoes; "filter delete <name>" removes all filters of that name.
        assert.equal(replyText(await c.filter('Event-Name', 'CUSTOM')), '+OK filter added. [Event-Name]=[CUSTOM]');
        assert.equal(replyText(await c.filter('Event-Subclass', '-interop::drop')),
          '+OK filter added. [Event-Subclass]=[-interop::drop]');
        c.clearEvents();
        drop = await fire('interop::drop');
        keep = await fire('interop::keep');
        await arrives(keep);
        assert.equal(seen(drop), false, 'event vetoed by a negative filter was delivered');
        assert.equal(replyText(await c.filterDelete('Event-Subclass')), '+OK filter deleted. [Event-Subclass][]');
        c.clearEvents();
        drop = await fire('interop::drop');
        keep = await fire('interop::keep');
        await arrives(drop);
        await arrives(keep);
        assert.equal(replyText(await c.filterDelete('all')), '+OK filter deleted. [all][]');
        assert.deepEqual(c.errors, []);
      });
    });

    it('disconnect sends exit and the server says goodbye and closes', async () => {
      const c = await open();
      await c.traced(async () => {
        await c.disconnect();
        const received = c.wire.filter((w) => w.dir === '<').map((w) => w.data.toString()).join('');
        assert.ok(received.endsWith('Content-Type: command/reply\nReply-Text: +OK bye\n\n'
          + `Content-Type: text/disconnect-notice\nContent-Length: ${DISCONNECT_MESSAGE.length}\n\n${DISCONNECT_MESSAGE}`),
          'expected +OK bye then the disconnect notice as the last bytes');
        assert.equal(c.notices.length, 1);
        assert.equal(c.notices[0].getBody(), DISCONNECT_MESSAGE);
        assert.deepEqual(c.errors, []);
      });
      // The daemon keeps serving other clients.
      const again = await open();
      assert.equal((await again.traced(() => again.api('echo', 'still here'))).getBody(), 'still here');
      await again.traced(() => again.disconnect());
    });
  });
}

module.exports = {
  defineSuite,
  fsUrlEncode,
  // Shared with calls_suite.js and outbound_suite.js.
  HOST,
  freePort,
  Daemon,
  Client,
  withTimeout,
  sleep,
  replyText,
  STEP_TIMEOUT_MS,
  SUITE_TIMEOUT_MS,
};
