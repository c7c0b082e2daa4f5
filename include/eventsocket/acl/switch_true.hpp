#pragma once

#include <string_view>

namespace eventsocket::acl {

// FreeSWITCH's switch_true(), the truthiness rule used by every boolean in its configuration
// (ACL.md §1): `yes`, `on`, `true`, `t`, `enabled`, `active`, `allow` (case-insensitive), or
// a numeric string whose integer value is non-zero. "Numeric" is FreeSWITCH's
// switch_is_number(): an optional sign followed only by digits and dots, and the value is
// what atoi() would read, so "1.5" and "-1" are true while "0.9", "+", "" and " 1" are false.
// (The one atoi() behaviour not reproduced is int wrap-around on absurdly long numbers.)
// Everything else, `deny` and `no` included, is false.
bool parse_switch_bool(std::string_view text) noexcept;

}  // namespace eventsocket::acl
