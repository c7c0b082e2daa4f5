#include <array>
#include <charconv>

#include "eventsocket/event/codec.hpp"
#include "eventsocket/wire/url.hpp"

namespace eventsocket::event {
namespace {

constexpr std::string_view kSubclassHeader = "Event-Subclass";
constexpr std::string_view kArrayPrefix = "ARRAY::";
constexpr std::string_view kArraySeparator = "|:";

void append_size(std::string& out, std::size_t value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  (void)ec;
  out.append(digits, end);
}

// Visits the headers of the delivery copy FreeSWITCH makes for each socket
// (switch_event_dup): the subclass first, then the rest without `Event-Subclass`.
template <typename Visit>
void for_each_delivered_header(const Event& event, Visit&& visit) {
  const bool subclass_first = !event.subclass().empty();
  if (subclass_first) {
    visit(kSubclassHeader, event.subclass());
  }
  for (std::size_t i = 0; i < event.header_count(); ++i) {
    const Header h = event.header_at(i);
    if (subclass_first && h.name == kSubclassHeader) {
      continue;
    }
    visit(h.name, h.value);
  }
}

// Calls visit(item) for each item of an `ARRAY::a|:b` value; returns false for plain values.
template <typename Visit>
bool for_each_array_item(std::string_view value, Visit&& visit) {
  if (value.substr(0, kArrayPrefix.size()) != kArrayPrefix) {
    return false;
  }
  value.remove_prefix(kArrayPrefix.size());
  for (;;) {
    const std::size_t sep = value.find(kArraySeparator);
    visit(value.substr(0, sep));
    if (sep == std::string_view::npos) {
      return true;
    }
    value.remove_prefix(sep + kArraySeparator.size());
  }
}

// Names are written as they are (FreeSWITCH does), except CR and LF: a name holding one
// (possible through sendevent's mixed line endings) would end the header block early and
// corrupt the event for every subscriber, so they are percent-encoded.
void plain_name(std::string& out, std::string_view name) {
  bool clean = true;
  for (const char c : name) {
    clean &= (c != '\r') & (c != '\n');
  }
  if (clean) {
    out.append(name);
    return;
  }
  for (char c : name) {
    if (c == '\r') {
      out.append("%0D");
    } else if (c == '\n') {
      out.append("%0A");
    } else {
      out.push_back(c);
    }
  }
}

void plain_header(std::string& out, std::string_view name, std::string_view value) {
  plain_name(out, name);
  out.append(": ");
  const std::size_t before = out.size();
  wire::url_encode_append(out, value);
  if (out.size() == before) {
    out.append("_undef_");
  }
  out.push_back('\n');
}

void plain_body(const Event& event, std::string& out) {
  if (event.has_body() && !event.body().empty()) {
    out.append("Content-Length: ");
    append_size(out, event.body().size());
    out.append("\n\n");
    out.append(event.body());
  } else {
    out.push_back('\n');
  }
}

// cJSON's string printer: `"` and `\` escaped, BS FF LF CR TAB by letter, other control
// bytes as \u00xx (lowercase hex); `/`, DEL and bytes >= 0x80 copied as they are.
constexpr std::array<bool, 256> make_json_escape_table() {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) {
    table[c] = true;
  }
  table['"'] = table['\\'] = true;
  return table;
}
constexpr std::array<bool, 256> kJsonEscape = make_json_escape_table();

void json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  std::size_t run = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (!kJsonEscape[c]) {
      continue;
    }
    out.append(text.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default: {
        constexpr char kLowerHex[] = "0123456789abcdef";
        const char escaped[6] = {'\\', 'u', '0', '0', kLowerHex[c >> 4], kLowerHex[c & 0xF]};
        out.append(escaped, 6);
      }
    }
  }
  out.append(text.data() + run, text.size() - run);
  out.push_back('"');
}

void json_member(std::string& out, bool& first, std::string_view name, std::string_view value) {
  if (!first) {
    out.push_back(',');
  }
  first = false;
  json_string(out, name);
  out.push_back(':');
  bool first_item = true;
  const bool is_array = for_each_array_item(value, [&](std::string_view item) {
    out.push_back(first_item ? '[' : ',');
    first_item = false;
    json_string(out, item);
  });
  if (is_array) {
    out.push_back(']');
  } else {
    json_string(out, value);
  }
}

void xml_element(std::string& out, std::string_view name, std::string_view value) {
  out.append("    <");
  out.append(name);
  out.push_back('>');
  wire::url_encode_append(out, value);
  out.append("</");
  out.append(name);
  out.append(">\n");
}

// FreeSWITCH's switch_xml_ampencode() for text content, quirks included: `<!` switches
// escaping off for the rest of the text, UTF-8 sequences become &#xHEX; references, a
// broken sequence is dropped and leaves later high bytes unescaped, NUL ends the text.
void xml_escape_body(std::string& out, std::string_view text) {
  bool immune = false;
  int expecting = 0;  // continuation bytes still expected; -1 after a broken sequence
  unsigned code_point = 0;
  std::size_t run = 0;
  auto flush = [&](std::size_t i) {
    out.append(text.data() + run, i - run);
    run = i + 1;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\0') {
      out.append(text.data() + run, i - run);
      return;
    }
    if (immune) {
      continue;
    }
    switch (c) {
      case '&':
        flush(i);
        out.append("&amp;");
        continue;
      case '<':
        if (i + 1 < text.size() && text[i + 1] == '!') {
          immune = true;
          continue;
        }
        flush(i);
        out.append("&lt;");
        continue;
      case '>':
        flush(i);
        out.append("&gt;");
        continue;
      case '\r':
        flush(i);
        out.append("&#xD;");
        continue;
      case '"':
      case '\n':
      case '\t':
        continue;  // kept as they are in text (they are escaped only in attributes)
      default:
        break;
    }
    if (c < 0x80 && expecting <= 0) {
      continue;  // plain ASCII (after a broken sequence too)
    }
    if (expecting == 0) {
      // A lead byte: count its leading one bits, as FreeSWITCH does (at most 4).
      int length = 1;
      while (length < 4 && ((c >> (7 - length)) & 1)) {
        ++length;
      }
      flush(i);
      switch (length) {
        case 2:
          code_point = c & 0x1F;
          break;
        case 3:
          code_point = c & 0x0F;
          break;
        case 4:
          code_point = c & 0x07;
          break;
        default:
          code_point = 0;
          break;
      }
      expecting = length - 1;
    } else if (expecting > 0) {
      flush(i);
      if ((c >> 6) == 0x2) {
        code_point = (code_point << 6) | (c & 0x3F);
      } else {
        expecting = 0;
        code_point = 0;
      }
      --expecting;
      if (expecting == 0) {
        char ref[16];
        out.append("&#x");
        auto [end, ec] = std::to_chars(ref, ref + sizeof ref, code_point, 16);
        (void)ec;
        for (char* p = ref; p != end; ++p) {
          if (*p >= 'a' && *p <= 'f') {
            *p = static_cast<char>(*p - 'a' + 'A');
          }
        }
        out.append(ref, end);
        out.push_back(';');
      }
    }
    // expecting < 0: the byte is copied as it is.
  }
  out.append(text.data() + run, text.size() - run);
}

}  // namespace

void encode_plain(const Event& event, std::string& out) {
  out.reserve(out.size() + event.text_bytes() + event.header_count() * 8 + event.body().size() +
              32);
  for_each_delivered_header(event, [&](std::string_view name, std::string_view value) {
    plain_header(out, name, value);
  });
  plain_body(event, out);
}

void encode_plain_raw(const Event& event, std::string& out) {
  for (std::size_t i = 0; i < event.header_count(); ++i) {
    const Header h = event.header_at(i);
    plain_header(out, h.name, h.value);
  }
  plain_body(event, out);
}

void encode_json(const Event& event, std::string& out) {
  out.reserve(out.size() + event.text_bytes() + event.header_count() * 6 + event.body().size() +
              48);
  out.push_back('{');
  bool first = true;
  for_each_delivered_header(event, [&](std::string_view name, std::string_view value) {
    json_member(out, first, name, value);
  });
  if (event.has_body()) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, event.body().size());
    (void)ec;
    if (!first) {
      out.push_back(',');
    }
    out.append("\"Content-Length\":\"");
    out.append(digits, end);
    out.append("\",\"_body\":");
    json_string(out, event.body());
  }
  out.push_back('}');
}

void encode_xml(const Event& event, std::string& out) {
  out.reserve(out.size() + 2 * event.text_bytes() + event.header_count() * 16 +
              event.body().size() + 64);
  out.append("<event>\n  <headers>\n");
  for_each_delivered_header(event, [&](std::string_view name, std::string_view value) {
    if (!for_each_array_item(value, [&](std::string_view item) { xml_element(out, name, item); })) {
      xml_element(out, name, value);
    }
  });
  out.append("  </headers>\n");
  if (event.has_body() && !event.body().empty()) {
    out.append("  <Content-Length>");
    append_size(out, event.body().size());
    out.append("</Content-Length>\n  <body>");
    const std::size_t start = out.size();
    xml_escape_body(out, event.body());
    if (out.size() > start && out.back() == '\n') {
      out.append("  ");  // FreeSWITCH's printer indents the closing tag after a newline
    }
    out.append("</body>\n");
  }
  out.append("</event>\n");
}

void encode(const Event& event, wire::EventFormat format, std::string& out) {
  switch (format) {
    case wire::EventFormat::plain:
      encode_plain(event, out);
      return;
    case wire::EventFormat::json:
      encode_json(event, out);
      return;
    case wire::EventFormat::xml:
      encode_xml(event, out);
      return;
  }
}

void append_json_string(std::string& out, std::string_view text) {
  json_string(out, text);
}

}  // namespace eventsocket::event
