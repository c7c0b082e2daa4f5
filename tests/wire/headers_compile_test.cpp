// Each public wire header compiles on its own (included first in its own block).
#include "eventsocket/wire/errc.hpp"
#include "eventsocket/wire/limits.hpp"
#include "eventsocket/wire/message.hpp"
#include "eventsocket/wire/parser.hpp"
#include "eventsocket/wire/url.hpp"
#include "eventsocket/wire/writer.hpp"
