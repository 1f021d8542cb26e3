// Where generators' stacks come from (pools of guarded or carved stacks), and the overflow report's thread setup.
#ifndef ASYNC_GENERATOR_DETAIL_STACK_POOL_HPP
#define ASYNC_GENERATOR_DETAIL_STACK_POOL_HPP

#include <async_generator/compat/fiber.hpp>
#include <async_generator/stack.hpp>

#include <cstddef>

namespace async_generator {
namespace detail {

// A stack for the generator `owner` (named in an overflow report), by `options`; kept for reuse
// after the generator ends: mapping and protecting a stack costs microseconds, taking one from the
// pool nanoseconds. `policy` is resolved (never default_policy) and must be given back on deallocation.
compat::stack_context allocate_stack(std::size_t size, stack_policy policy, const void* owner);
void deallocate_stack(compat::stack_context& sctx, stack_policy policy) noexcept;
stack_policy resolve(stack_policy policy) noexcept;

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
