// bgapi_originate: starts a call in the background with `bgapi originate`, prints the job's
// result (the new channel's uuid), then hangs the call up with `uuid_kill`. Uses the blocking
// API (client::BlockingConnection): every call waits for its answer.
//
//   bgapi_originate [host] [port] [password] [dial string]
//   defaults: 127.0.0.1 8021 ClueCon "null/1000 &park()"
//
// null/1000 is eventsocketd's endpoint that answers at once; on a switch with phones, try
// "user/1000 &park()".

#include <cstdio>
#include <cstdlib>
#include <string>

#include "eventsocket/client/blocking.hpp"

using eventsocket::client::BlockingConnection;
using eventsocket::client::ClientError;
using eventsocket::client::ConnectOptions;

int main(int argc, char** argv) {
  ConnectOptions options;
  options.host = argc > 1 ? argv[1] : "127.0.0.1";
  options.port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 8021);
  options.password = argc > 3 ? argv[3] : "ClueCon";
  const std::string dial = argc > 4 ? argv[4] : "null/1000 &park()";
  try {
    BlockingConnection connection(options);

    // bgapi answers at once with a Job-UUID; the library then waits for that job's
    // BACKGROUND_JOB event, whose body is what `api originate` would have returned.
    // Originating can take a while (ringing): allow 60 s rather than the 5 s default.
    const auto job = connection.bgapi("originate " + dial, std::chrono::seconds(60));
    std::printf("job %s: %s", job.job_uuid.c_str(), job.body.c_str());
    if (!job.body.starts_with("+OK ")) {
      return 1;  // e.g. "-ERR USER_BUSY": no call to hang up
    }
    // "+OK <uuid>\n": the uuid of the new channel.
    std::string uuid = job.body.substr(4);
    uuid.erase(uuid.find_last_not_of("\r\n") + 1);

    const std::string killed = connection.api("uuid_kill " + uuid);
    std::printf("uuid_kill %s: %s", uuid.c_str(), killed.c_str());
    return killed.starts_with("+OK") ? 0 : 1;
  } catch (const ClientError& e) {  // connecting, authenticating, a deadline, a lost connection
    std::fprintf(stderr, "bgapi_originate: %s\n", e.what());
    return 1;
  }
}
