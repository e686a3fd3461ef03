// errors.h: the one error type native code throws; the binding turns it into a JS Error with `code`.
// Nothing in native/ calls abort, exit or assert on a path a user can reach: it throws tr::Error.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace tr {

// Error codes, shared with src/native/errors.ts.
#define TR_ERROR_CODES(X) \
  X(SHAPE_MISMATCH) X(DTYPE) X(DEVICE) X(OUT_OF_MEMORY) X(CUDA_UNAVAILABLE) X(CUDA_ERROR) \
  X(INVALID_ARGUMENT) X(NO_GRAPH) X(DISPOSED) X(NOT_SUPPORTED) X(IO) X(CORRUPT_FILE) X(INTERNAL)

enum class ErrorCode {
#define TR_X(name) name,
  TR_ERROR_CODES(TR_X)
#undef TR_X
};

inline const char* error_code_name(ErrorCode c) {
  switch (c) {
#define TR_X(name) case ErrorCode::name: return #name;
    TR_ERROR_CODES(TR_X)
#undef TR_X
  }
  return "INTERNAL";
}

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }
 private:
  ErrorCode code_;
};

// Builds a message from any streamable parts: fail(ErrorCode::DTYPE, "Expected ", a, " but received ", b).
template <typename... Parts>
[[noreturn]] void fail(ErrorCode code, const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  throw Error(code, os.str());
}

template <typename... Parts>
inline void check(bool ok, ErrorCode code, const Parts&... parts) {
  if (!ok) fail(code, parts...);
}

}  // namespace tr
