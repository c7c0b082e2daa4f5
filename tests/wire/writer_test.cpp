#include "eventsocket/wire/writer.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/transcript.hpp"

namespace eventsocket::wire {
namespace {

TEST(Writer, AuthRequest) {
  std::string out;
  append_auth_request(out);
  EXPECT_EQ(out, "Content-Type: auth/request\n\n");
}

TEST(Writer, CommandReply) {
  std::string out;
  append_command_reply(out, "+OK accepted");
  EXPECT_EQ(out, "Content-Type: command/reply\nReply-Text: +OK accepted\n\n");
}

TEST(Writer, CommandReplyTextIsCutAt511Bytes) {
  std::string out;
  append_command_reply(out, std::string(600, 'x'));
  EXPECT_EQ(out, "Content-Type: command/reply\nReply-Text: " + std::string(511, 'x') + "\n\n");
}

TEST(Writer, BgapiReplyWithJobUuid) {
  std::string out;
  const std::string uuid = "4cc77908-ffdb-4445-ba44-3bd4a1873b40";
  const HeaderView extra[] = {{"Job-UUID", uuid}};
  append_command_reply(out, "+OK Job-UUID: " + uuid, extra);
  // Transcript 23.
  EXPECT_EQ(out,
            "Content-Type: command/reply\nReply-Text: +OK Job-UUID: "
            "4cc77908-ffdb-4445-ba44-3bd4a1873b40\nJob-UUID: "
            "4cc77908-ffdb-4445-ba44-3bd4a1873b40\n\n");
}

TEST(Writer, UserauthExtendedReply) {
  std::string out;
  const HeaderView extra[] = {
      {"Allowed-Events", "all"}, {"Allowed-API", "all"}, {"Allowed-LOG", "true"}};
  append_command_reply(out, "+OK accepted", extra);
  EXPECT_EQ(out,
            "Content-Type: command/reply\nReply-Text: +OK accepted\nAllowed-Events: "
            "all\nAllowed-API: all\nAllowed-LOG: true\n\n");
}

TEST(Writer, ApiResponse) {
  std::string out;
  append_api_response(out, "crlf");
  EXPECT_EQ(out, "Content-Type: api/response\nContent-Length: 4\n\ncrlf");
  out.clear();
  append_api_response(out, "");
  EXPECT_EQ(out, "Content-Type: api/response\nContent-Length: 14\n\n-ERR no reply\n");
}

TEST(Writer, EventPacketPutsContentLengthFirst) {
  std::string out;
  append_event_packet(out, EventFormat::json, "{}");
  EXPECT_EQ(out, "Content-Length: 2\nContent-Type: text/event-json\n\n{}");
}

TEST(Writer, DisconnectNoticeMatchesTranscript01) {
  std::string out;
  append_command_reply(out, "+OK bye");
  append_disconnect_notice(out);
  const auto t = test::load_transcript("01_auth_ok_exit");
  EXPECT_EQ(out, t.chunks.back().bytes);
}

TEST(Writer, BoundDisconnectAndLingerNotices) {
  std::string out;
  append_bound_disconnect_notice(out, "u-1");
  EXPECT_EQ(out,
            "Content-Type: text/disconnect-notice\nControlled-Session-UUID: u-1\n"
            "Content-Disposition: disconnect\nContent-Length: 67\n\n" +
                std::string(kGoodbyeMessage));
  out.clear();
  append_linger_notice(out, "u-1", "loopback/9196-a", -5);
  EXPECT_EQ(out,
            "Content-Type: text/disconnect-notice\nControlled-Session-UUID: u-1\n"
            "Content-Disposition: linger\nChannel-Name: loopback/9196-a\nLinger-Time: -1\n"
            "Content-Length: 0\n\n");
}

TEST(Writer, RudeRejection) {
  std::string out;
  append_rude_rejection(out);
  EXPECT_EQ(out,
            "Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n");
}

TEST(Writer, LogData) {
  std::string out;
  LogData log;
  log.level = 6;
  log.text_channel = 3;
  log.file = "mod_commands.c";
  log.function = "log_function";
  log.line = 42;
  log.text = "hello\n";
  append_log_data(out, log);
  EXPECT_EQ(out,
            "Content-Type: log/data\nContent-Length: 6\nLog-Level: 6\nText-Channel: 3\n"
            "Log-File: mod_commands.c\nLog-Func: log_function\nLog-Line: 42\nUser-Data: \n\n"
            "hello\n");
}

TEST(Writer, EventFormatFromContentTypeIsTheInverse) {
  for (const EventFormat f : {EventFormat::plain, EventFormat::json, EventFormat::xml}) {
    EXPECT_EQ(event_format_from_content_type(event_content_type(f)), f);
  }
  EXPECT_EQ(event_format_from_content_type("command/reply"), std::nullopt);
  EXPECT_EQ(event_format_from_content_type("text/event-PLAIN"), std::nullopt);
  EXPECT_EQ(event_format_from_content_type(""), std::nullopt);
}

}  // namespace
}  // namespace eventsocket::wire
