// A tiny test harness (no downloads, no framework): CHECK records a failure with its location
// and message and carries on; main returns the number of failures, so ctest sees non-zero.
#pragma once
#include <cstdio>
#include <exception>
#include <sstream>
#include <string>

namespace facesel_test {

inline int& failures() {
  static int count = 0;
  return count;
}

inline void fail(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what.c_str());
  ++failures();
}

inline int finish(const char* name) {
  if (failures() == 0) std::printf("%s: all checks passed\n", name);
  return failures() == 0 ? 0 : 1;
}

}  // namespace facesel_test

// CHECK(cond, message-stream-expression)
#define CHECK(cond, msg)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::ostringstream facesel_check_os;                                 \
      facesel_check_os << #cond << " | " << msg;                           \
      facesel_test::fail(__FILE__, __LINE__, facesel_check_os.str());      \
    }                                                                      \
  } while (0)

// CHECK_THROWS(statement, ExceptionType): the statement must throw that exception type.
#define CHECK_THROWS(stmt, type)                                                      \
  do {                                                                                \
    bool facesel_thrown = false;                                                      \
    try {                                                                             \
      stmt;                                                                           \
    } catch (const type&) {                                                           \
      facesel_thrown = true;                                                          \
    } catch (const std::exception& e) {                                               \
      facesel_test::fail(__FILE__, __LINE__, std::string(#stmt " threw ") + e.what()); \
      facesel_thrown = true;                                                          \
    }                                                                                 \
    if (!facesel_thrown) facesel_test::fail(__FILE__, __LINE__, #stmt " did not throw " #type); \
  } while (0)
