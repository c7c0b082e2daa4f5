#include "eventsocket/wire/errc.hpp"

#include <string>

namespace eventsocket::wire {
namespace {

class WireCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "eventsocket.wire"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::ok:
        return "ok";
      case errc::need_more:
        return "need more bytes";
      case errc::line_too_long:
        return "header line too long";
      case errc::too_many_headers:
        return "too many header lines";
      case errc::header_block_too_large:
        return "header block too large";
      case errc::content_length_too_large:
        return "Content-Length above the limit";
      case errc::bad_content_length:
        return "negative Content-Length";
      case errc::buffer_limit:
        return "too many bytes buffered";
    }
    return "unknown wire error";
  }
};

}  // namespace

const std::error_category& wire_category() noexcept {
  static const WireCategory category;
  return category;
}

}  // namespace eventsocket::wire
