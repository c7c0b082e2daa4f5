#include <pugixml.hpp>

#include <cstring>
#include <string>

#include "decode_common.hpp"
#include "eventsocket/event/codec.hpp"
#include "eventsocket/wire/url.hpp"

namespace eventsocket::event {

bool decode_xml(std::string_view text, Event& out, std::string* error) {
  pugi::xml_document doc;
  // Whitespace-only text is kept when it is an element's only child: a body of "\n" is
  // written as "<body>\n  </body>".
  const pugi::xml_parse_result parsed =
      doc.load_buffer(text.data(), text.size(), pugi::parse_default | pugi::parse_ws_pcdata_single,
                      pugi::encoding_utf8);
  if (!parsed) {
    return set_decode_error(error, std::string("xml event: ") + parsed.description());
  }
  const pugi::xml_node root = doc.child("event");
  const pugi::xml_node headers = root.child("headers");
  if (!root || !headers) {
    return set_decode_error(error, "xml event: expected <event><headers>");
  }
  Event event;
  event.reserve(64, text.size());
  std::string decoded;
  for (const pugi::xml_node node : headers.children()) {
    if (node.type() != pugi::node_element) {
      continue;
    }
    decoded.clear();
    wire::url_decode_append(decoded, node.child_value());
    event.add_header(node.name(), decoded);
  }
  if (const pugi::xml_node body = root.child("body")) {
    std::string_view content = body.child_value();
    // Undo the printer's indentation of `</body>` after a trailing newline.
    if (content.size() >= 3 && content.substr(content.size() - 3) == "\n  ") {
      content.remove_suffix(2);
    }
    event.set_body(content);
  }
  classify_decoded_event(event);
  out = std::move(event);
  return true;
}

}  // namespace eventsocket::event
