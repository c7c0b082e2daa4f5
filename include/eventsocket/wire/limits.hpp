#pragma once

#include <cstddef>

namespace eventsocket::wire {

// Every size a peer controls, in bytes or counts, with the attack each one stops.
// Defaults accept everything FreeSWITCH accepts in practice (a 20000-byte api argument,
// a 9000-byte header line, a 16 MiB body) while keeping one connection's memory bounded.
struct Limits {
  // One header line (between line breaks). Stops a line that never ends.
  std::size_t max_line_bytes = 1024 * 1024;
  // Header lines in one block. Stops header floods that cost a vector entry each.
  std::size_t max_header_count = 10000;
  // The whole header block. FreeSWITCH caps it at 10 MiB; we keep its number but fail
  // instead of silently cutting the block there.
  std::size_t max_header_block_bytes = 10 * 1024 * 1024;
  // Content-Length of one body. FreeSWITCH rejects anything above 16 MiB (16777216).
  std::size_t max_content_length = 16 * 1024 * 1024;
  // Unconsumed bytes the parser will hold (block + bodies + pipelined data). Must be at
  // least max_header_block_bytes + max_content_length to accept the largest message.
  std::size_t max_buffered_bytes = 32 * 1024 * 1024;
};

}  // namespace eventsocket::wire
