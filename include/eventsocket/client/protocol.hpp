#pragma once

// The client's state machine, without any I/O: bytes from the server go in (`feed`), and out
// come replies matched to the commands that asked for them, BACKGROUND_JOB results matched to
// their Job-UUID, CHANNEL_EXECUTE_COMPLETE matched to their Application-UUID, and the events
// and log lines for the program, queued with a bound and a visible gap. Connection drives it
// over a socket; the unit tests drive it with scripted bytes.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "eventsocket/event/event.hpp"
#include "eventsocket/wire/parser.hpp"

namespace eventsocket::client {

// Every failure of the client: refused input, connection lost, authentication refused,
// a deadline passed, a cancelled operation.
class ClientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// What the server answered a command with.
struct Reply {
  std::string content_type;  // "command/reply", "api/response" or "auth/request"
  Headers headers;
  std::string body;

  // Reply-Text of a command/reply ("" for api/response).
  std::string text() const;
  std::optional<std::string> header(std::string_view name) const;
  // "+OK ..." (command/reply) or a body that does not start with "-ERR" (api/response).
  bool ok() const;
};

// The result of `bgapi`: the BACKGROUND_JOB event of its Job-UUID.
struct BackgroundJob {
  std::string job_uuid;
  std::string body;  // the command's output
  event::Event event;
};

// One `log/data` packet (after `log <level>`).
struct LogLine {
  int level = 7;  // 0 console ... 7 debug
  std::string file;
  std::string function;
  int line = 0;
  std::string user_data;  // the channel's uuid when the line is about one
  std::string text;
};

// Sent down the event queue, as a CUSTOM event of subclass `eventsocket::gap`, where events
// had to be dropped: header `Dropped-Events` says how many. Never silent loss.
inline constexpr std::string_view kGapSubclass = "eventsocket::gap";

// True when `text` may be written as one line of a command (no CR, no LF).
bool is_single_line(std::string_view text) noexcept;

// The bytes of one command: the line, `Name: value` headers, then the body with its
// Content-Length. Throws ClientError, writing nothing, when the command is empty or any part
// would break the framing (CR or LF anywhere but the body, a colon in a header name).
std::string serialize_command(std::string_view command, const Headers& headers,
                              std::string_view body);

class Protocol {
 public:
  using Token = std::uint64_t;

  // What one awaited answer turned out to be.
  struct Completion {
    Token token = 0;
    std::optional<Reply> reply;            // a command's reply
    std::optional<BackgroundJob> job;      // a bgapi's BACKGROUND_JOB
    std::optional<event::Event> executed;  // an execute's CHANNEL_EXECUTE_COMPLETE
  };

  explicit Protocol(std::size_t max_queued_events = 10000);

  // Outgoing, in the order the commands are written: the next reply answers this token.
  Token expect_reply();
  // A bgapi's result: the BACKGROUND_JOB with this Job-UUID (registered before sending).
  Token expect_job(std::string job_uuid);
  // An execute's end: the CHANNEL_EXECUTE_COMPLETE with this Application-UUID.
  Token expect_execution(std::string application_uuid);
  // The waiter gave up (deadline, cancellation): a reply is still consumed in its place, so
  // later commands keep their own replies; a job or execution is forgotten.
  void abandon(Token token);

  // Incoming bytes: every complete packet in them is handled. An error means the stream
  // cannot be read any further (the connection must be dropped); need_more is not an error.
  std::error_code feed(std::string_view bytes);
  // The server closed: true when it did so in the middle of a packet.
  bool mid_packet() const { return parser_.buffered_bytes() > 0; }

  // What the last feed completed, oldest first (taken: the list is emptied).
  std::vector<Completion> take_completions();
  std::deque<event::Event>& events() { return events_; }
  std::deque<LogLine>& logs() { return logs_; }
  std::uint64_t dropped_events() const { return dropped_; }
  // Why the server said goodbye (disconnect notice, rude rejection), "" if it did not.
  const std::string& goodbye() const { return goodbye_; }
  // Nothing awaited any more, a fresh parser (a new connection); queued events stay.
  void reset();

  // Decoding only (the client benchmark's unit): handles one packet as feed would.
  void handle_packet(const wire::MessageView& packet);

 private:
  void queue_event(event::Event e);
  void complete(Completion c);

  std::size_t max_queued_;
  wire::Parser parser_{wire::Direction::packet};
  Token next_token_ = 1;
  std::deque<Token> replies_;
  std::set<Token> abandoned_;
  std::map<std::string, Token, std::less<>> jobs_;
  std::map<std::string, Token, std::less<>> executions_;
  std::vector<Completion> completions_;
  std::deque<event::Event> events_;
  std::deque<LogLine> logs_;
  std::uint64_t dropped_ = 0;
  std::uint64_t unreported_drops_ = 0;
  std::string goodbye_;
};

// What the server was asked to send this connection (event subscriptions, filters,
// myevents, divert_events, log level, linger), kept as a net state from the commands that
// succeeded, so a reconnect can ask again for exactly the same, each thing once.
class Subscriptions {
 public:
  // A command the server accepted (its line, e.g. "event plain CHANNEL_ANSWER").
  void note(std::string_view command_line);
  // The commands that recreate the state on a fresh connection, in a working order.
  std::vector<std::string> restore_commands() const;
  // The format of the event subscriptions ("plain" before any).
  const std::string& format() const { return format_; }
  bool subscribed(std::string_view event_name) const;

 private:
  std::string format_ = "plain";
  bool all_ = false;
  std::set<std::string> names_;       // without ALL; with ALL: the ones nixed
  std::set<std::string> subclasses_;  // CUSTOM subclasses
  std::vector<std::pair<std::string, std::string>> filters_;
  std::string myevents_;  // the command line as sent, "" if none
  std::string divert_;
  std::string log_;
  std::string linger_;
};

}  // namespace eventsocket::client
