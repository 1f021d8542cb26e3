// Where generators' stacks come from (pools of guarded or carved stacks), and the overflow report's thread setup.
#ifndef ASYNC_GENERATOR_DETAIL_STACK_POOL_HPP
#define ASYNC_GENERATOR_DETAIL_STACK_POOL_HPP

#include <async_generator/compat/fiber.hpp>
#include <async_generator/stack.hpp>

#include <cstddef>
#include <cstring>

namespace async_generator {
namespace detail {

// A stack for the generator `owner` (named in an overflow report) of serial `serial`, by `options`;
// kept for reuse after the generator ends: mapping and protecting a stack costs microseconds, taking
// one from the pool nanoseconds. `policy` is resolved (never default_policy) and must be given back
// on deallocation.
compat::stack_context allocate_stack(std::size_t size, stack_policy policy, const void* owner, unsigned long long serial);
void deallocate_stack(compat::stack_context& sctx, stack_policy policy) noexcept;
stack_policy resolve(stack_policy policy) noexcept;
// The serial of the generator that owns the stack whose top (its stack_context's sp) is `top`, 0
// while the stack is unused. Readable whenever the caller runs on that stack.
inline unsigned long long stack_owner_serial(const char* top) noexcept {
  unsigned long long serial;
  std::memcpy(&serial, top, sizeof serial);
  return serial;
}

// Makes sure this thread can report an overflow: the fault handler needs a stack of its own. Asked
// before every run from a native stack, so the answer for a thread already prepared is inline.
void prepare_this_thread_for_overflow_reports() noexcept;
inline bool& thread_prepared_for_overflow_reports() noexcept {
  static thread_local bool prepared = false;
  return prepared;
}
inline void prepare_thread_for_overflow_reports() noexcept {
  if (!thread_prepared_for_overflow_reports()) prepare_this_thread_for_overflow_reports();
}

}  // namespace detail
}  // namespace async_generator

#endif
