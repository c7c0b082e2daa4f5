#include "eventsocket/event/filter.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "eventsocket/wire/message.hpp"

namespace eventsocket::event {

class FilterRegex {
 public:
  // `text` is `/expr/flags`: the pattern lies between the first and the last slash; flags
  // may hold `i` (caseless) and `s` (dot matches newline). Returns null when there is no
  // closing slash or the pattern does not compile: such a filter never matches.
  static std::shared_ptr<const FilterRegex> compile(std::string_view text) {
    if (text.size() < 2 || text.front() != '/') {
      return nullptr;
    }
    const std::size_t last = text.rfind('/');
    if (last == 0) {
      return nullptr;
    }
    const std::string_view expr = text.substr(1, last - 1);
    std::uint32_t options = 0;
    for (char flag : text.substr(last + 1)) {
      if (flag == 'i') {
        options |= PCRE2_CASELESS;
      } else if (flag == 's') {
        options |= PCRE2_DOTALL;
      }
    }
    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(expr.data()), expr.size(),
                                     options, &error_code, &error_offset, nullptr);
    if (code == nullptr) {
      return nullptr;
    }
    return std::make_shared<const FilterRegex>(code);
  }

  explicit FilterRegex(pcre2_code* code) : code_(code) {}

  // Filters run on the publishing thread for every event: a client's pathological pattern
  // (`/(a+)+$/` on a long value) must cost a bounded time, not PCRE2's default of ten million
  // steps (~150 ms each, stalling everyone's events). Over the limit counts as no match.
  static pcre2_match_context* match_context() {
    static pcre2_match_context* const context = [] {
      pcre2_match_context* c = pcre2_match_context_create(nullptr);
      pcre2_set_match_limit(c, 20000);
      pcre2_set_depth_limit(c, 2000);
      return c;
    }();
    return context;
  }
  ~FilterRegex() { pcre2_code_free(code_); }
  FilterRegex(const FilterRegex&) = delete;
  FilterRegex& operator=(const FilterRegex&) = delete;

  bool search(std::string_view subject) const {
    pcre2_match_data* data = pcre2_match_data_create_from_pattern(code_, nullptr);
    if (data == nullptr) {
      return false;
    }
    const int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(),
                               0, 0, data, match_context());
    pcre2_match_data_free(data);
    return rc >= 0;
  }

 private:
  pcre2_code* code_;
};

Filter Filter::make(std::string_view header, std::string_view value) {
  Filter f;
  f.header.assign(header);
  f.value.assign(value);
  // Leading '+', '-' and ' ' set the sign; the last sign seen wins.
  std::size_t i = 0;
  for (; i < value.size(); ++i) {
    if (value[i] == '+') {
      f.positive = true;
    } else if (value[i] == '-') {
      f.positive = false;
    } else if (value[i] != ' ') {
      break;
    }
  }
  f.pattern.assign(value.substr(i));
  // Only a value whose very first character is '/' is a regex: `-/x/` is a literal.
  f.is_regex = !value.empty() && value.front() == '/';
  if (f.is_regex) {
    f.regex = FilterRegex::compile(f.pattern);
  }
  return f;
}

bool Filter::matches(std::string_view header_value) const {
  if (is_regex) {
    return regex != nullptr && regex->search(header_value);
  }
  return wire::iequals(header_value, pattern);
}

void FilterList::add(std::string_view header, std::optional<std::string_view> value) {
  if (!value) {
    return;
  }
  if (value->empty()) {
    remove(header);
    return;
  }
  filters_.push_back(Filter::make(header, *value));
}

void FilterList::remove(std::string_view header) {
  std::erase_if(filters_, [&](const Filter& f) { return wire::iequals(f.header, header); });
}

void FilterList::remove(std::string_view header, std::string_view value) {
  std::erase_if(filters_, [&](const Filter& f) {
    return wire::iequals(f.header, header) && f.value == value;
  });
}

bool FilterList::passes(const Event& event) const {
  if (filters_.empty()) {
    return true;
  }
  bool send = false;
  for (const Filter& f : filters_) {
    std::optional<std::string_view> header_value = event.header(f.header);
    if (!header_value && f.header == "_body" && event.has_body()) {
      header_value = event.body();
    }
    if (!header_value) {
      continue;
    }
    if (send && f.positive) {
      continue;  // already accepted; only a negative filter can change that
    }
    if (f.matches(*header_value)) {
      if (!f.positive) {
        return false;  // a matching negative filter vetoes
      }
      send = true;
    }
  }
  return send;
}

}  // namespace eventsocket::event
