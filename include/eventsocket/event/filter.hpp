#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventsocket/event/event.hpp"

namespace eventsocket::event {

// A compiled `/regex/flags` filter value (PCRE2). Shared: filters are copied cheaply.
class FilterRegex;

// One `filter <header> <value>` entry.
struct Filter {
  std::string header;  // compared case-insensitively with event header names
  std::string value;   // as the client typed it, sign characters included
  bool positive = true;
  bool is_regex = false;                     // the value starts with '/'
  std::shared_ptr<const FilterRegex> regex;  // null when the value is not a usable regex
  std::string pattern;  // value without its leading sign characters (EVENTS.md §11)

  static Filter make(std::string_view header, std::string_view value);
  // Does this filter's value match the header value (case-insensitive equality or regex)?
  bool matches(std::string_view header_value) const;
};

// A connection's filters, in insertion order, with FreeSWITCH's evaluation (EVENTS.md §11):
// with no filters everything passes; otherwise an event passes when at least one positive
// filter matches and no negative filter matches. Filters on headers an event lacks are
// skipped for that event.
class FilterList {
 public:
  // `filter <header> <value>`. With no value at all (`filter add X`) nothing changes; with
  // an empty value every filter on that header is removed (FreeSWITCH's behaviour).
  void add(std::string_view header, std::optional<std::string_view> value);
  // `filter delete all`.
  void remove_all() { filters_.clear(); }
  // `filter delete <header>`: every filter on that header (case-insensitive name).
  void remove(std::string_view header);
  // `filter delete <header> <value>`: those whose stored value is exactly `value`.
  void remove(std::string_view header, std::string_view value);

  bool empty() const noexcept { return filters_.empty(); }
  const std::vector<Filter>& filters() const noexcept { return filters_; }

  bool passes(const Event& event) const;

 private:
  std::vector<Filter> filters_;
};

}  // namespace eventsocket::event
