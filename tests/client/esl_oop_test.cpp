// The libesl-compatible classes (esl_oop.hpp) against a real eventsocketd (TestServer on an
// ephemeral loopback port): what a libesl C++ program calls, and what it gets back.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "eventsocket/client/esl_oop.hpp"
#include "eventsocket/event/codec.hpp"
#include "server/test_server.hpp"

namespace {

using namespace std::chrono_literals;
using eventsocket::test::OutboundListener;
using eventsocket::test::TestServer;

// libesl hands out raw pointers the caller deletes.
using Owned = std::unique_ptr<ESLevent>;

std::string text(const char* value) {
  return value ? value : "(null)";
}

// Reads events until one of type `type` (or nothing more within the time).
Owned wait_for(ESLconnection& c, const std::string& type, int ms = 5000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < deadline) {
    Owned e(c.recvEventTimed(200));
    if (e && text(e->getType()) == type) {
      return e;
    }
  }
  return nullptr;
}

TEST(EslOop, ConnectsWithIntAndTextPorts) {
  TestServer server;
  ESLconnection by_int("127.0.0.1", server.port(), "ClueCon");
  EXPECT_EQ(by_int.connected(), 1);
  EXPECT_GE(by_int.socketDescriptor(), 0);
  EXPECT_EQ(by_int.getInfo(), nullptr);  // inbound: no channel data
  const std::string port = std::to_string(server.port());
  ESLconnection by_text("127.0.0.1", port.c_str(), "ClueCon");
  EXPECT_EQ(by_text.connected(), 1);
  EXPECT_NE(by_text.socketDescriptor(), by_int.socketDescriptor());
  EXPECT_EQ(by_int.disconnect(), 0);
  EXPECT_EQ(by_int.connected(), 0);
  EXPECT_EQ(by_int.socketDescriptor(), -1);
  EXPECT_EQ(by_int.disconnect(), 1);
}

TEST(EslOop, WrongPasswordOrNobodyListeningLeavesItUnconnected) {
  TestServer server;
  ESLconnection refused("127.0.0.1", server.port(), "wrong");
  EXPECT_EQ(refused.connected(), 0);
  EXPECT_EQ(refused.socketDescriptor(), -1);
  EXPECT_EQ(Owned(refused.api("status")), nullptr);
  OutboundListener closed;
  const int port = closed.port();
  closed.close();
  ESLconnection nobody("127.0.0.1", port, "ClueCon");
  EXPECT_EQ(nobody.connected(), 0);
  ESLconnection bad_port("127.0.0.1", "not-a-port", "ClueCon");
  EXPECT_EQ(bad_port.connected(), 0);
}

TEST(EslOop, ApiResultIsTheBody) {
  TestServer server;
  ESLconnection c("127.0.0.1", server.port(), "ClueCon");
  Owned echo(c.api("echo", "hello world"));
  ASSERT_TRUE(echo);
  EXPECT_EQ(text(echo->getBody()), "hello world");
  EXPECT_EQ(text(echo->getHeader("content-type")), "api/response");
  EXPECT_EQ(text(echo->getType()), "SOCKET_DATA");
  Owned status(c.api("status"));
  ASSERT_TRUE(status);
  EXPECT_NE(text(status->getBody()).find("UP "), std::string::npos) << text(status->getBody());
}

TEST(EslOop, SendRecvGivesTheReplyHeaders) {
  TestServer server;
  ESLconnection c("127.0.0.1", server.port(), "ClueCon");
  Owned r(c.sendRecv("event plain CHANNEL_CREATE"));
  ASSERT_TRUE(r);
  EXPECT_EQ(text(r->getHeader("Content-Type")), "command/reply");
  EXPECT_EQ(text(r->getHeader("Reply-Text")), "+OK event listener enabled plain");
  EXPECT_EQ(r->getBody(), nullptr);
  Owned api(c.sendRecv("api echo via sendRecv"));
  ASSERT_TRUE(api);
  EXPECT_EQ(text(api->getBody()), "via sendRecv");
}

TEST(EslOop, SentCustomEventComesBackThroughRecvEvent) {
  TestServer server;
  ESLconnection c("127.0.0.1", server.port(), "ClueCon");
  for (const char* format : {"plain", "json", "xml"}) {
    SCOPED_TRACE(format);
    ASSERT_EQ(c.events(format, "CUSTOM esl::oop"), 0);
    ESLevent e("CUSTOM", "esl::oop");
    EXPECT_TRUE(e.addHeader("Seq", format));
    EXPECT_TRUE(e.addHeader("Text", "a b&c<d>\"e\""));
    EXPECT_TRUE(e.addBody("the body"));
    Owned reply(c.sendEvent(&e));
    ASSERT_TRUE(reply);
    EXPECT_EQ(text(reply->getHeader("Reply-Text")).rfind("+OK", 0), 0u)
        << text(reply->getHeader("Reply-Text"));
    Owned got(c.recvEventTimed(5000));
    ASSERT_TRUE(got);
    EXPECT_EQ(text(got->getType()), "CUSTOM");
    EXPECT_EQ(text(got->getHeader("Event-Subclass")), "esl::oop");
    EXPECT_EQ(text(got->getHeader("Seq")), format);
    EXPECT_EQ(text(got->getHeader("Text")), "a b&c<d>\"e\"");
    EXPECT_EQ(text(got->getBody()), "the body");
    ASSERT_EQ(c.events("plain", "HEARTBEAT"), 0);  // replaces nothing: adds a type
    Owned off(c.sendRecv("noevents"));
    ASSERT_TRUE(off);
  }
}

TEST(EslOop, BgapiKeepsTheGivenJobUuidAndItsJobArrives) {
  TestServer server;
  ESLconnection c("127.0.0.1", server.port(), "ClueCon");
  ASSERT_EQ(c.events("plain", "BACKGROUND_JOB"), 0);
  const std::string job = "e5100000-0000-4000-8000-000000000001";
  Owned accepted(c.bgapi("echo", "from the background", job.c_str()));
  ASSERT_TRUE(accepted);
  EXPECT_EQ(text(accepted->getHeader("Job-UUID")), job);
  EXPECT_EQ(text(accepted->getHeader("Reply-Text")), "+OK Job-UUID: " + job);
  Owned done(c.recvEvent());
  ASSERT_TRUE(done);
  EXPECT_EQ(text(done->getType()), "BACKGROUND_JOB");
  EXPECT_EQ(text(done->getHeader("Job-UUID")), job);
  EXPECT_EQ(text(done->getBody()), "from the background");
  // Without a Job-UUID the server makes one.
  Owned own(c.bgapi("echo", "x"));
  ASSERT_TRUE(own);
  EXPECT_EQ(text(own->getHeader("Job-UUID")).size(), 36u);
}

TEST(EslOop, RecvEventTimedGivesNullOnTimeout) {
  TestServer server;
  ESLconnection c("127.0.0.1", server.port(), "ClueCon");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(c.recvEventTimed(200), nullptr);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 2s);
  EXPECT_EQ(c.connected(), 1);
}

TEST(EslOop, FilterKeepsOnlyMatchingEvents) {
  TestServer server;
  ESLconnection c("127.0.0.1", server.port(), "ClueCon");
  ESLconnection publisher("127.0.0.1", server.port(), "ClueCon");
  ASSERT_EQ(c.events("plain", "CUSTOM esl::filtered"), 0);
  Owned r(c.filter("Wanted", "yes"));
  ASSERT_TRUE(r);
  EXPECT_EQ(text(r->getHeader("Reply-Text")), "+OK filter added. [Wanted]=[yes]");
  for (const char* wanted : {"no", "yes"}) {
    ESLevent e("CUSTOM", "esl::filtered");
    e.addHeader("Wanted", wanted);
    Owned sent(publisher.sendEvent(&e));
    ASSERT_TRUE(sent);
  }
  Owned got(c.recvEventTimed(5000));
  ASSERT_TRUE(got);
  EXPECT_EQ(text(got->getHeader("Wanted")), "yes");
  EXPECT_EQ(c.recvEventTimed(200), nullptr);
}

TEST(EslOop, SendDoesNotWaitAndRecvEventReturnsTheReply) {
  TestServer server;
  ESLconnection c("127.0.0.1", server.port(), "ClueCon");
  ASSERT_EQ(c.events("plain", "CUSTOM esl::race"), 0);
  ESLevent e("CUSTOM", "esl::race");
  Owned sent(c.sendEvent(&e));  // its event is queued before send()'s reply exists
  EXPECT_EQ(c.send("api echo sent"), 0);
  Owned reply(c.recvEvent());
  ASSERT_TRUE(reply);
  EXPECT_EQ(text(reply->getHeader("Content-Type")), "api/response");
  EXPECT_EQ(text(reply->getBody()), "sent");
  Owned event(c.recvEvent());
  ASSERT_TRUE(event);
  EXPECT_EQ(text(event->getHeader("Event-Subclass")), "esl::race");
  // A sendRecv after a send gets its own reply, not the earlier one.
  EXPECT_EQ(c.send("api echo first"), 0);
  Owned second(c.api("echo", "second"));
  ASSERT_TRUE(second);
  EXPECT_EQ(text(second->getBody()), "second");
  Owned first(c.recvEventTimed(5000));
  ASSERT_TRUE(first);
  EXPECT_EQ(text(first->getBody()), "first");
}

TEST(EslOop, ExecuteOnAParkedChannel) {
  TestServer server;
  ESLconnection c("127.0.0.1", server.port(), "ClueCon");
  const std::string uuid = "e5100000-0000-4000-8000-000000000002";
  ASSERT_EQ(c.events("plain", "CHANNEL_EXECUTE_COMPLETE"), 0);
  Owned originated(c.api("originate", ("{origination_uuid=" + uuid + "}null/x &park()").c_str()));
  ASSERT_TRUE(originated);
  ASSERT_EQ(text(originated->getBody()), "+OK " + uuid + "\n");
  EXPECT_EQ(c.setEventLock("TRUE"), 1);
  EXPECT_EQ(c.setAsyncExecute("no"), 0);
  Owned accepted(c.execute("set", "esl_oop_var=from execute", uuid.c_str()));
  ASSERT_TRUE(accepted);
  EXPECT_EQ(text(accepted->getHeader("Reply-Text")), "+OK");
  Owned complete = wait_for(c, "CHANNEL_EXECUTE_COMPLETE");
  ASSERT_TRUE(complete);
  EXPECT_EQ(text(complete->getHeader("Unique-ID")), uuid);
  EXPECT_EQ(text(complete->getHeader("Application")), "set");
  Owned value(c.api("uuid_getvar", (uuid + " esl_oop_var").c_str()));
  ASSERT_TRUE(value);
  EXPECT_EQ(text(value->getBody()), "from execute");
  EXPECT_EQ(c.setEventLock("off"), 0);
  Owned async(c.executeAsync("set", "esl_oop_async=yes", uuid.c_str()));
  ASSERT_TRUE(async);
  EXPECT_EQ(text(async->getHeader("Reply-Text")), "+OK");
  Owned async_complete = wait_for(c, "CHANNEL_EXECUTE_COMPLETE");
  ASSERT_TRUE(async_complete);
  // sendMSG: the same through an event's headers.
  ESLevent msg("SEND_MESSAGE");
  msg.addHeader("call-command", "hangup");
  msg.addHeader("hangup-cause", "NORMAL_CLEARING");
  EXPECT_EQ(c.sendMSG(&msg, uuid.c_str()), 0);
  Owned gone;
  for (int i = 0; i < 50 && !gone; ++i) {
    Owned exists(c.api("uuid_exists", uuid.c_str()));
    if (exists && text(exists->getBody()) == "false") {
      gone = std::move(exists);
    } else {
      std::this_thread::sleep_for(20ms);
    }
  }
  EXPECT_TRUE(gone) << "the hangup sent by sendMSG did not end the call";
}

TEST(EslOop, EventHeadersBodyAndIteration) {
  ESLevent e("channel_answer");
  EXPECT_EQ(text(e.getType()), "CHANNEL_ANSWER");
  EXPECT_EQ(text(e.getHeader("event-name")), "CHANNEL_ANSWER");
  EXPECT_TRUE(e.addHeader("Caller", "1000"));
  EXPECT_TRUE(e.addHeader("Callee", "2000"));
  // Two values asked for at once both stay readable.
  const char* caller = e.getHeader("CALLER");
  const char* callee = e.getHeader("callee");
  EXPECT_EQ(text(caller), "1000");
  EXPECT_EQ(text(callee), "2000");
  EXPECT_EQ(e.getHeader("Missing"), nullptr);
  EXPECT_EQ(e.getBody(), nullptr);
  EXPECT_TRUE(e.addBody("body text"));
  EXPECT_EQ(text(e.getBody()), "body text");
  EXPECT_EQ(text(e.getHeader("_body")), "body text");
  EXPECT_TRUE(e.delHeader("caller"));
  EXPECT_EQ(e.getHeader("Caller"), nullptr);

  EXPECT_TRUE(e.pushHeader("List", "b"));
  EXPECT_TRUE(e.pushHeader("List", "c"));
  EXPECT_TRUE(e.unshiftHeader("List", "a"));
  EXPECT_EQ(text(e.getHeader("List")), "ARRAY::a|:b|:c");
  EXPECT_EQ(text(e.getHeader("List", 0)), "a");
  EXPECT_EQ(text(e.getHeader("List", 2)), "c");
  EXPECT_EQ(e.getHeader("List", 3), nullptr);

  EXPECT_TRUE(e.setPriority(ESL_PRIORITY_HIGH));
  EXPECT_TRUE(e.setPriority(ESL_PRIORITY_LOW));
  std::vector<std::string> names;
  for (const char* h = e.firstHeader(); h; h = e.nextHeader()) {
    names.emplace_back(h);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"priority", "Event-Name", "Callee", "List"}));
  EXPECT_EQ(text(e.getHeader("priority")), "LOW");

  ESLevent custom("MESSAGE", "my::subclass");  // a subclass makes it CUSTOM
  EXPECT_EQ(text(custom.getType()), "CUSTOM");
  EXPECT_EQ(text(custom.getHeader("Event-Subclass")), "my::subclass");
  ESLevent unknown("no_such_event");
  EXPECT_EQ(text(unknown.getType()), "MESSAGE");
  ESLevent bad_json("json", "{not json");
  EXPECT_EQ(text(bad_json.getType()), "invalid");
  EXPECT_EQ(bad_json.getHeader("Event-Name"), nullptr);
  EXPECT_FALSE(bad_json.addHeader("A", "b"));
  EXPECT_EQ(bad_json.serialize(), nullptr);

  ESLevent copy(&e);
  EXPECT_TRUE(e.addHeader("Only-In-Original", "x"));
  EXPECT_EQ(copy.getHeader("Only-In-Original"), nullptr);
  EXPECT_EQ(text(copy.getHeader("Callee")), "2000");
}

TEST(EslOop, SerializeRoundTripsThroughTheCodec) {
  ESLevent e("CUSTOM", "esl::round");
  e.addHeader("Text", "a b&c<d>\"e\" 100% {x}");
  e.addHeader("Unicode", "caf\xc3\xa9");
  e.addBody("line one\nline two\n");
  const std::string plain = text(e.serialize());
  EXPECT_EQ(plain, text(e.serialize("plain")));
  EXPECT_NE(plain.find("Text: a%20b%26c%3Cd%3E%22e%22%20100%25%20%7Bx%7D\n"), std::string::npos)
      << plain;
  eventsocket::event::Event decoded;
  ASSERT_TRUE(eventsocket::event::decode_plain(plain, decoded));
  EXPECT_EQ(decoded.header_or_empty("Text"), "a b&c<d>\"e\" 100% {x}");
  EXPECT_EQ(decoded.body(), "line one\nline two\n");

  ESLevent from_json("json", e.serialize("json"));
  EXPECT_EQ(text(from_json.getType()), "CUSTOM");
  EXPECT_EQ(text(from_json.getHeader("Event-Subclass")), "esl::round");
  EXPECT_EQ(text(from_json.getHeader("Text")), "a b&c<d>\"e\" 100% {x}");
  EXPECT_EQ(text(from_json.getHeader("Unicode")), "caf\xc3\xa9");
  EXPECT_EQ(text(from_json.getBody()), "line one\nline two\n");

  const std::string xml = text(e.serialize("XML"));
  ASSERT_TRUE(eventsocket::event::decode_xml(xml, decoded));
  EXPECT_EQ(decoded.header_or_empty("Text"), "a b&c<d>\"e\" 100% {x}");
  EXPECT_EQ(decoded.body(), "line one\nline two\n");
}

TEST(EslOop, LineBreaksAreRefusedAndNothingIsWritten) {
  TestServer server;
  ESLconnection c("127.0.0.1", server.port(), "ClueCon");
  EXPECT_EQ(c.api("echo", "x\n\nexit"), nullptr);
  EXPECT_EQ(c.sendRecv("api echo x\r"), nullptr);
  EXPECT_EQ(c.send("api echo\n\nexit"), 1);
  EXPECT_EQ(c.bgapi("echo", "x", "job\nexit"), nullptr);
  EXPECT_EQ(c.execute("set", "a=b\n\nexit", "some-uuid"), nullptr);
  EXPECT_EQ(c.filter("Event-Name", "x\r\nexit"), nullptr);
  EXPECT_NE(c.events("plain", "CUSTOM\n\nexit"), 0);
  ESLevent e("CUSTOM", "esl::crlf");
  e.addHeader("Bad", "one\ntwo");
  Owned refused(c.sendEvent(&e));  // libesl's failure value: never null
  ASSERT_TRUE(refused);
  EXPECT_EQ(text(refused->getType()), "SERVER_DISCONNECTED");
  EXPECT_NE(c.sendMSG(&e, "some-uuid"), 0);
  // Nothing of that reached the server: still authenticated and in step.
  EXPECT_EQ(c.connected(), 1);
  Owned still(c.api("echo", "still here"));
  ASSERT_TRUE(still);
  EXPECT_EQ(text(still->getBody()), "still here");
  EXPECT_EQ(c.recvEventTimed(100), nullptr);
}

TEST(EslOop, LogLinesComeThroughRecvEventAfterLog) {
  TestServer server;
  ESLconnection c("127.0.0.1", server.port(), "ClueCon");
  Owned on(c.sendRecv("log 7"));
  ASSERT_TRUE(on);
  Owned originated(c.api("originate", "null/x &log(ERR esl-oop-log-line)"));
  ASSERT_TRUE(originated);
  Owned found;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!found && std::chrono::steady_clock::now() < deadline) {
    Owned e(c.recvEventTimed(500));
    if (e && text(e->getBody()).find("esl-oop-log-line") != std::string::npos) {
      found = std::move(e);
    }
  }
  ASSERT_TRUE(found);
  EXPECT_EQ(text(found->getHeader("Content-Type")), "log/data");
  EXPECT_EQ(text(found->getHeader("Log-Level")), "3");
}

// Outbound: the switch's socket application connects to the program's listener, whose
// accepted descriptor becomes an ESLconnection.
TEST(EslOop, OutboundConnectionOverAnAcceptedSocket) {
  TestServer server;
  OutboundListener listener;
  ESLconnection control("127.0.0.1", server.port(), "ClueCon");
  const std::string uuid = "e5100000-0000-4000-8000-000000000003";
  Owned originated(control.bgapi("originate", ("{origination_uuid=" + uuid + "}null/x '&socket(" +
                                               listener.address() + " async full)'")
                                                  .c_str()));
  ASSERT_TRUE(originated);
  const int fd = listener.accept();
  ASSERT_GE(fd, 0);
  ESLconnection call(fd);
  ASSERT_EQ(call.connected(), 1);
  EXPECT_EQ(call.socketDescriptor(), fd);
  Owned info(call.getInfo());
  ASSERT_TRUE(info);
  EXPECT_EQ(text(info->getHeader("Event-Name")), "CHANNEL_DATA");
  EXPECT_EQ(text(info->getHeader("Unique-ID")), uuid);
  EXPECT_EQ(text(info->getHeader("Socket-Mode")), "async");
  EXPECT_EQ(text(info->getHeader("Control")), "full");
  Owned my(call.sendRecv("myevents"));
  ASSERT_TRUE(my);
  EXPECT_EQ(text(my->getHeader("Reply-Text")).rfind("+OK", 0), 0u);
  Owned answer(call.execute("answer"));
  ASSERT_TRUE(answer);
  EXPECT_EQ(text(answer->getHeader("Reply-Text")), "+OK");
  Owned answered = wait_for(call, "CHANNEL_EXECUTE_COMPLETE");
  ASSERT_TRUE(answered);
  EXPECT_EQ(text(answered->getHeader("Unique-ID")), uuid);
  EXPECT_EQ(text(answered->getHeader("Application")), "answer");
  Owned hangup(call.execute("hangup"));
  ASSERT_TRUE(hangup);
  // The switch ends the session after the hangup: libesl's loop reads until recvEvent says so.
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    Owned e(call.recvEvent());
    ASSERT_TRUE(e);
    if (text(e->getType()) == "SERVER_DISCONNECTED") {
      break;
    }
    seen.insert(text(e->getType()));
  }
  EXPECT_TRUE(seen.count("CHANNEL_HANGUP")) << "no CHANNEL_HANGUP";
  EXPECT_EQ(call.connected(), 0);
  EXPECT_EQ(call.socketDescriptor(), -1);
}

TEST(EslOop, RecvEventAfterTheServerWentAwayIsServerDisconnected) {
  auto server = std::make_unique<TestServer>();
  ESLconnection c("127.0.0.1", server->port(), "ClueCon");
  ASSERT_EQ(c.connected(), 1);
  server.reset();
  // libesl's ESLevent("server_disconnected"), an event of type SERVER_DISCONNECTED.
  Owned e(c.recvEvent());
  ASSERT_TRUE(e);
  EXPECT_EQ(text(e->getType()), "SERVER_DISCONNECTED");
  EXPECT_EQ(text(e->getHeader("Event-Name")), "SERVER_DISCONNECTED");
  EXPECT_EQ(c.connected(), 0);
  EXPECT_EQ(c.recvEventTimed(100), nullptr);
  EXPECT_EQ(Owned(c.api("status")), nullptr);

  // The same after `exit`, the server's goodbye.
  TestServer again;
  ESLconnection leaving("127.0.0.1", again.port(), "ClueCon");
  Owned bye(leaving.sendRecv("exit"));
  ASSERT_TRUE(bye);
  EXPECT_EQ(text(bye->getHeader("Reply-Text")), "+OK bye");
  Owned after(leaving.recvEvent());
  ASSERT_TRUE(after);
  EXPECT_EQ(text(after->getType()), "SERVER_DISCONNECTED");
  EXPECT_EQ(leaving.connected(), 0);
}

}  // namespace
