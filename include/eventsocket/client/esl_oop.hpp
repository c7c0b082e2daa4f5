#pragma once

// libesl's C++ classes, ESLconnection and ESLevent, in the global namespace with libesl's
// names and signatures, so that a program written against FreeSWITCH's <esl_oop.h> builds by
// changing its include and link line. Built on client::BlockingConnection and event::Event.
//
// As in libesl:
//  * constructors never throw: check connected() (or, for an event, getType() != "invalid");
//  * every ESLevent* returned by ESLconnection is new-allocated and belongs to the caller;
//  * calls block without a deadline (libesl has none), except recvEventTimed;
//  * one thread uses a connection at a time.
// Unlike libesl, anything written with a CR or LF in a command, argument or header is refused
// before a byte is sent (the call fails), since it would let one argument inject commands.
// Other differences are noted at each method.
//
// Pointers returned by ESLevent (getHeader, getBody, getType, firstHeader, nextHeader) stay
// valid until the next call that changes that event (addHeader, delHeader, addBody, ...) or
// its destruction; serialize()'s until the next serialize().

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eventsocket/event/event.hpp"

enum esl_priority_t { ESL_PRIORITY_NORMAL, ESL_PRIORITY_LOW, ESL_PRIORITY_HIGH };

class ESLevent {
 public:
  // A new event of type `type` (an event name such as "CHANNEL_ANSWER"; an unknown name gives
  // MESSAGE), with its Event-Name header. A subclass makes it CUSTOM, with Event-Subclass.
  // ESLevent("json", text) parses `text`, a JSON event; if it cannot, the event is invalid.
  ESLevent(const char* type, const char* subclass_name = nullptr);
  // A copy of `me` (an invalid event when `me` is null).
  ESLevent(ESLevent* me);
  // Not in libesl: wraps an event of this library.
  explicit ESLevent(eventsocket::event::Event event);
  virtual ~ESLevent();
  ESLevent(const ESLevent& other);
  ESLevent& operator=(const ESLevent& other);

  // The event as text: "plain" (the default, URL-encoded values), "json" or "xml", written as
  // FreeSWITCH writes them to an Event Socket. Null for an invalid event.
  const char* serialize(const char* format = nullptr);
  // Puts a `priority` header (NORMAL, LOW or HIGH) first, replacing an earlier one.
  bool setPriority(esl_priority_t priority = ESL_PRIORITY_NORMAL);
  // The value of the first header of that name (case-insensitive), or null. With idx >= 0, an
  // element of an array header ("ARRAY::a|:b"); "_body" gives the body.
  const char* getHeader(const char* header_name, int idx = -1);
  // The body, or null when there is none.
  char* getBody();
  // The event's name ("CUSTOM" for a custom event), "invalid" when there is no event.
  const char* getType();
  // Sets the body.
  bool addBody(const char* value);
  // Appends a header.
  bool addHeader(const char* header_name, const char* value);
  // Appends `value` to header `header_name`, which becomes an array header once it holds more
  // than one value (created when absent).
  bool pushHeader(const char* header_name, const char* value);
  // Same, prepending `value`.
  bool unshiftHeader(const char* header_name, const char* value);
  // Removes every header of that name.
  bool delHeader(const char* header_name);
  // Iteration over the header names, in order: null after the last one.
  const char* firstHeader();
  const char* nextHeader();

  // Not in libesl: the event itself (invalid events have none).
  const std::optional<eventsocket::event::Event>& native() const noexcept { return event_; }

 private:
  // Every returned pointer points into one of these; a change to the event clears them.
  void forget_returned_text();
  bool add_to_array(const char* header_name, const char* value, bool at_front);

  std::optional<eventsocket::event::Event> event_;
  std::map<std::pair<std::string, int>, std::string> returned_values_;  // by lowercase name
  std::optional<std::string> returned_body_;
  std::string returned_type_;
  std::vector<std::string> returned_names_;
  std::size_t next_header_ = 0;
  std::string serialized_;
};

class ESLconnection {
 public:
  // Inbound: connects and sends `auth password` (or `userauth user:password`; applications
  // pass "user@domain" as user). Connecting and authenticating have a 30 s deadline (libesl
  // relies on the system's). On failure connected() is 0.
  ESLconnection(const char* host, const int port, const char* user, const char* password);
  ESLconnection(const char* host, const int port, const char* password);
  ESLconnection(const char* host, const char* port, const char* user, const char* password);
  ESLconnection(const char* host, const char* port, const char* password);
  // Outbound: takes over `socket`, a connection the switch's `socket` application made to this
  // program (accepted by it), sends `connect` and keeps the channel data for getInfo(). The
  // descriptor then belongs to this object (closed by disconnect() or the destructor).
  ESLconnection(int socket);
  virtual ~ESLconnection();
  ESLconnection(const ESLconnection&) = delete;
  ESLconnection& operator=(const ESLconnection&) = delete;

  // The socket's descriptor, -1 when not connected. Only to tell connections apart: the
  // library's own thread reads it.
  int socketDescriptor();
  // 1 while the connection is usable; 0 once it failed, was closed or the server left.
  int connected();
  // Outbound: a copy of the channel data `connect` was answered with; null inbound.
  ESLevent* getInfo();
  // Sends a command without waiting: its reply is what the next recvEvent() returns. 0 on
  // success, 1 when refused (line break, not connected).
  int send(const char* cmd);
  // Sends a command and returns its reply as an event of type SOCKET_DATA: the reply's headers
  // (Content-Type, Reply-Text, ...) and, for api/response, its body. Null on failure.
  ESLevent* sendRecv(const char* cmd);
  // `api cmd arg`: the reply, getBody() being the result.
  ESLevent* api(const char* cmd, const char* arg = nullptr);
  // `bgapi cmd arg` (with a Job-UUID header when job_uuid is given): the reply, which has the
  // Job-UUID header. The result comes later as a BACKGROUND_JOB event through recvEvent(), if
  // subscribed to (events()).
  ESLevent* bgapi(const char* cmd, const char* arg = nullptr, const char* job_uuid = nullptr);
  // `sendevent NAME` with the event's headers and body: returns the reply (libesl returns a
  // copy of the last packet it read), or on failure ESLevent("server_disconnected") (type
  // SERVER_DISCONNECTED): never null, as in libesl.
  ESLevent* sendEvent(ESLevent* send_me);
  // `sendmsg [uuid]` with the event's headers and body: 0 once the server answered, 1 on failure.
  int sendMSG(ESLevent* send_me, const char* uuid = nullptr);
  // The next event, waiting as long as it takes: the reply of an earlier send() first, then
  // events in arrival order (plain, json and xml events all decoded), then log lines (after a
  // `log` command, as SOCKET_DATA events with Content-Type log/data). Once the connection is
  // gone, ESLevent("server_disconnected") (type SERVER_DISCONNECTED, as in libesl) and
  // connected() is 0. Unlike libesl, unread events are bounded (10000): beyond that new ones
  // are dropped, and a CUSTOM event of subclass eventsocket::gap says how many.
  ESLevent* recvEvent();
  // The same, waiting at most `ms` milliseconds: null on timeout or when the connection is gone.
  ESLevent* recvEventTimed(int ms);
  // `filter header value`: the reply.
  ESLevent* filter(const char* header, const char* value);
  // `event <plain|json|xml> value` (etype "xml" or "json", anything else is plain): 0 once the
  // server answered (the reply text is not checked, as in libesl), 1 on failure.
  int events(const char* etype, const char* value);
  // `sendmsg [uuid]` executing `app` with `arg` on the channel (outbound: the connection's
  // channel when uuid is null), with `event-lock: true` after setEventLock("true") and
  // `async: true` after setAsyncExecute("true"). Returns the reply; it does not wait for the
  // application to finish (its CHANNEL_EXECUTE_COMPLETE comes through recvEvent()).
  ESLevent* execute(const char* app, const char* arg = nullptr, const char* uuid = nullptr);
  // The same with `async: true` whatever setAsyncExecute said.
  ESLevent* executeAsync(const char* app, const char* arg = nullptr, const char* uuid = nullptr);
  // Set the flags from a boolean text (true, yes, on, enabled, active, allow or a non-zero
  // number, case-insensitive: libesl's esl_true); return the new value.
  int setAsyncExecute(const char* val);
  int setEventLock(const char* val);
  // Closes the connection: 0, or 1 when it was not connected.
  int disconnect();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// libesl's own diagnostics: from level 3 (ESL_LOG_ERROR) on, why a connection or a call
// failed is written to standard error; 0 (the default, as in libesl) writes nothing.
void eslSetLogLevel(int level);
