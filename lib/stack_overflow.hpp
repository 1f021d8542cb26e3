// The registry of guard pages, and the fault handler that names the generator whose stack overflowed.
#ifndef ASYNC_GENERATOR_LIB_STACK_OVERFLOW_HPP
#define ASYNC_GENERATOR_LIB_STACK_OVERFLOW_HPP

#include <atomic>
#include <cstddef>

namespace async_generator {
namespace detail {

// At the top of each guarded stack: what an overflow report says.
struct stack_header {
  unsigned long long serial = 0;            // the owning generator's (stack_owner_serial), 0 when none
  std::atomic<const void*> owner{nullptr};  // the generator running on the stack
  std::size_t size = 0;                     // its usable size
  unsigned valgrind_id = 0;                 // its registration with valgrind, when built for it
};

// A guard page [guard, guard + page) under the stack whose header is `header`. Registering installs
// the fault handler if it is not in place.
void register_guard(const void* guard, stack_header* header);
void unregister_guard(const void* guard) noexcept;

}  // namespace detail
}  // namespace async_generator

#endif
