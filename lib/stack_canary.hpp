// The canary at the lowest bytes of a stack that has no guard page below it (the adaptive policy's
// last resort): an overflow overwrites it on its way down, and a check at each suspension finds it.
#ifndef ASYNC_GENERATOR_LIB_STACK_CANARY_HPP
#define ASYNC_GENERATOR_LIB_STACK_CANARY_HPP

#include <cstddef>

namespace async_generator {
namespace detail {

// Writes the canary at `lo`, the stack's lowest byte.
void write_canary(char* lo) noexcept;
// Unless the canary at `lo` is intact, reports the overflow of the stack of `size` bytes that
// `owner` runs on, and aborts: the memory below the stack is already damaged.
void check_canary(const char* lo, const void* owner, std::size_t size) noexcept;

}  // namespace detail
}  // namespace async_generator

#endif
