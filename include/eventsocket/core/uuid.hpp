#pragma once

#include <string>

namespace eventsocket::core {

// A random (version 4) UUID in FreeSWITCH's lowercase 8-4-4-4-12 form.
std::string make_uuid();

}  // namespace eventsocket::core
