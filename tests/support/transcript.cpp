#include "support/transcript.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace eventsocket::test {

std::string data_dir() {
  return EVENTSOCKET_TEST_DATA_DIR;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot open " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> transcript_names() {
  std::istringstream index(read_file(data_dir() + "/conformance/INDEX.txt"));
  std::vector<std::string> names;
  for (std::string line; std::getline(index, line);) {
    if (!line.empty()) {
      names.push_back(line);
    }
  }
  return names;
}

Transcript load_transcript(const std::string& name) {
  const std::string text = read_file(data_dir() + "/conformance/" + name + ".txt");
  Transcript t;
  t.name = name;
  std::size_t pos = 0;
  const std::string marker = "=== ";
  while (pos < text.size()) {
    const std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) {
      break;
    }
    const std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.rfind(marker, 0) != 0) {
      continue;  // "# " description lines
    }
    // "=== C->S 14 bytes ===" or "=== S->C 28 bytes ==="
    std::istringstream fields(line.substr(marker.size()));
    std::string direction;
    std::size_t count = 0;
    fields >> direction >> count;
    if (pos + count > text.size()) {
      throw std::runtime_error("truncated chunk in " + name);
    }
    t.chunks.push_back({direction == "C->S", text.substr(pos, count)});
    pos += count + 1;  // the chunk, then one '\n'
  }
  return t;
}

std::string Transcript::client_bytes() const {
  std::string out;
  for (const auto& c : chunks) {
    if (c.client_to_server) {
      out += c.bytes;
    }
  }
  return out;
}

std::string Transcript::server_bytes() const {
  std::string out;
  for (const auto& c : chunks) {
    if (!c.client_to_server) {
      out += c.bytes;
    }
  }
  return out;
}

}  // namespace eventsocket::test
