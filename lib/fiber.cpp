// The one part of a fiber switch out of line: the runtime's record of this thread's exceptions.
#include <async_generator/compat/fiber.hpp>

#include <cxxabi.h>

namespace async_generator {
namespace compat {

#if defined(__GLIBCXX__) && !defined(__ARM_EABI_UNWINDER__)
ASYNC_GENERATOR_OPAQUE exception_state* thread_exception_state() noexcept {
  // Kept in the library's own thread-local, which the linker resolves to a plain load when the
  // library is linked into the program; the runtime's own is reached through its TLS lookup.
  static thread_local exception_state* record = nullptr;
  if (record == nullptr) record = reinterpret_cast<exception_state*>(abi::__cxa_get_globals());
  return record;
}
#endif

}  // namespace compat
}  // namespace async_generator
