#pragma once

#include <cstdio>

// Stops the fuzzer on a broken invariant: libFuzzer reports the trap as a crash and saves
// the input. The message says which check failed before the stack trace.
#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      __builtin_trap();                                                                   \
    }                                                                                     \
  } while (0)
