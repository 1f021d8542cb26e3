// The registry of guard pages, and the fault handler that names the generator whose stack overflowed.
#ifndef ASYNC_GENERATOR_LIB_STACK_OVERFLOW_HPP
#define ASYNC_GENERATOR_LIB_STACK_OVERFLOW_HPP

#include "stack_header.hpp"

#include <cstddef>

namespace async_generator {
namespace detail {

// A guard page [guard, guard + page) under the stack whose header is `header`. Registering installs
// the fault handler if it is not in place.
void register_guard(const void* guard, stack_header* header);
void unregister_guard(const void* guard) noexcept;

// Writes "async_generator: stack overflow in <async_generator object at 0x...>: its stack of <size>
// bytes is too small; ..." and `ending` (the rest of the line) to stderr. Async-signal-safe.
void write_overflow_report(const void* owner, std::size_t size, const char* ending) noexcept;

}  // namespace detail
}  // namespace async_generator

#endif
