#pragma once

// Sequential call commands with `event plain ALL` subscribers (esl_load calls, esl-bench cps).
//
// S connections subscribe to `event plain ALL` and count every event; one control connection
// sends the command N times one after another (waiting for each reply, counting +OK and
// -ERR). Each subscriber must see CHANNEL_CREATE, HANGUP_COMPLETE and DESTROY of every
// channel named by a `+OK <uuid>` reply (other channels on the switch are reported, not
// counted; replies naming no channel fall back to counts of N).

#include <map>
#include <string>
#include <vector>

namespace eslbench {

struct CallsOptions {
  std::string host = "127.0.0.1";
  int port = 8021;
  std::string password = "ClueCon";
  int calls = 10000;
  std::string command = "api originate null/x &hangup()";
  int subscribers = 1;
  int drain_timeout_s = 30;  // how long events may still arrive after the last reply
  bool by_name = false;      // also count every Event-Name
  int timeout_s = 120;       // no run takes longer
};

struct CallsSubscriberResult {
  long events = 0;
  long creates = 0;
  long destroys = 0;
  long hangup_completes = 0;
  std::map<std::string, long, std::less<>> by_name;  // with CallsOptions::by_name only
  bool all = false;                                  // every call's three events arrived
  long own_complete = 0;                             // by uuid: calls with all three events
  long foreign_channels = 0;                         // by uuid: channels no reply named
};

struct CallsResult {
  std::string setup_error;  // non-empty: a connection failed before the first call
  int replies = 0;
  int ok_replies = 0;
  int err_replies = 0;
  int other_replies = 0;
  std::string first_error;  // the first non-+OK reply's first line
  double send_seconds = 0;  // first send to last reply
  double p50_us = 0;
  double p99_us = 0;
  double max_us = 0;
  bool by_uuid = false;  // completeness checked per channel (else by counts)
  std::size_t own_calls = 0;
  bool complete = false;       // every reply arrived and every subscriber had every event
  double drained_seconds = 0;  // first send to the last needed CHANNEL_DESTROY (when complete)
  std::vector<CallsSubscriberResult> subscribers;

  bool passed() const {
    return setup_error.empty() && err_replies == 0 && other_replies == 0 && complete;
  }
};

CallsResult run_calls(const CallsOptions& options);

}  // namespace eslbench
