#pragma once

#include <string>
#include <vector>

namespace eventsocket::test {

// One capture from tests/data/conformance (copied from a real FreeSWITCH 1.11): the bytes
// each side sent, in arrival order. Chunk boundaries are recv() timing, not framing.
struct Transcript {
  struct Chunk {
    bool client_to_server;
    std::string bytes;
  };
  std::string name;
  std::vector<Chunk> chunks;

  std::string client_bytes() const;  // everything the client sent
  std::string server_bytes() const;  // everything the server sent
};

std::string data_dir();
std::string read_file(const std::string& path);
// Names (e.g. "08_event_plain_channel_create") of every capture, in INDEX order.
std::vector<std::string> transcript_names();
Transcript load_transcript(const std::string& name);

}  // namespace eventsocket::test
