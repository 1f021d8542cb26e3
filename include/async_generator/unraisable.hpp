// Errors that have nowhere to go (Python's sys.unraisablehook): a generator dropped while suspended
// whose synchronous close fails, or a body that swallows the library's stack unwinding.
#ifndef ASYNC_GENERATOR_UNRAISABLE_HPP
#define ASYNC_GENERATOR_UNRAISABLE_HPP

#include <exception>
#include <functional>
#include <string>

namespace async_generator {

/// What an unraisable-error hook receives.
struct unraisable {
  std::exception_ptr exception;  ///< the error
  std::string object;            ///< what it happened in, e.g. "<async_generator object at 0x...>"
};

using unraisablehook_type = std::function<void(const unraisable&)>;

/// Installs `hook` (an empty one restores the default, which prints Python's
/// "Exception ignored in: ..." lines on stderr) and returns the previous one. Process-wide.
unraisablehook_type set_unraisablehook(unraisablehook_type hook);

/// Reports `u` through the current hook.
void report_unraisable(const unraisable& u) noexcept;

/// Describes an exception the way Python prints it: "RuntimeError: message".
std::string describe_exception(const std::exception_ptr& e);

}  // namespace async_generator

#endif
