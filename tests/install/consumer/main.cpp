// What a libesl C++ program does, written only against esl_oop.hpp: connect, `api status`,
// subscribe, send a CUSTOM event and receive it back. Prints one line per step; exits 1 on
// the first failure.
// Usage: esl_consumer [host] [port] [password]

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <eventsocket/client/esl_oop.hpp>

int main(int argc, char** argv) {
  const char* host = argc > 1 ? argv[1] : "127.0.0.1";
  const int port = argc > 2 ? std::atoi(argv[2]) : 8021;
  const char* password = argc > 3 ? argv[3] : "ClueCon";
  eslSetLogLevel(3);  // say why, should something fail

  ESLconnection con(host, port, password);
  if (!con.connected()) {
    std::printf("not connected\n");
    return 1;
  }
  std::printf("connected\n");

  // libesl returns new-allocated events that the caller deletes.
  std::unique_ptr<ESLevent> status(con.api("status"));
  if (!status || !status->getBody()) {
    std::printf("api status failed\n");
    return 1;
  }
  const std::string body = status->getBody();
  std::printf("status: %s\n", body.substr(0, body.find('\n')).c_str());

  if (con.events("plain", "CUSTOM consumer::ping") != 0) {
    std::printf("events failed\n");
    return 1;
  }
  ESLevent ping("CUSTOM", "consumer::ping");
  ping.addHeader("Greeting", "hello");
  ping.addBody("ping body");
  std::unique_ptr<ESLevent> sent(con.sendEvent(&ping));
  std::unique_ptr<ESLevent> got(con.recvEventTimed(5000));
  if (!got) {
    std::printf("no event\n");
    return 1;
  }
  const char* greeting = got->getHeader("Greeting");
  const char* got_body = got->getBody();
  std::printf("event: %s %s greeting=%s body=%s\n", got->getType(),
              got->getHeader("Event-Subclass"), greeting ? greeting : "(none)",
              got_body ? got_body : "(none)");
  con.disconnect();
  return 0;
}
