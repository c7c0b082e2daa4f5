#pragma once

#include <string>

// esl_load outbound (outbound_load.cpp): `calls` concurrent outbound sessions per round, each
// holding its call for `hold_ms`; `server_pid` > 0 samples the server's threads, fds and
// RSS. Returns the process exit status (non-zero when a call did not complete).
int run_outbound(int port, const std::string& password, int calls, int hold_ms, int rounds,
                 int server_pid);
