// Where generators' stacks come from (by policy, pooled by kind), and the overflow report's thread setup.
#ifndef ASYNC_GENERATOR_DETAIL_STACK_POOL_HPP
#define ASYNC_GENERATOR_DETAIL_STACK_POOL_HPP

#include <async_generator/compat/fiber.hpp>
#include <async_generator/stack.hpp>

#include <cstddef>
#include <cstring>

namespace async_generator {
namespace detail {

// A stack of `size` bytes (0: the default) by `policy` (resolved: never default_policy) for the
// generator `owner` (named in an overflow report) of serial `serial`; kept for reuse after the
// generator ends: making a stack costs microseconds, taking one from its pool nanoseconds. The stack
// records how it was made, which decides where deallocation puts it.
compat::stack_context allocate_stack(std::size_t size, stack_policy policy, const void* owner, unsigned long long serial);
void deallocate_stack(compat::stack_context& sctx) noexcept;
stack_policy resolve(stack_policy policy) noexcept;

// Internal, for the library's own tests (not for programs: it may change or go at any release).
// What the stack policies see of the system, so that tests reach every fallback on any kernel:
// whether guard regions are used (false: as on a kernel before Linux 6.13; true where the kernel has
// none changes nothing), and the adaptive policy's budget of guarded stacks in mappings of their own
// (initially a quarter of vm.max_map_count). It applies to stacks made afterwards.
struct stack_conditions {
  bool guard_regions;
  std::size_t mapping_budget;
};
stack_conditions current_stack_conditions() noexcept;
void simulate_stack_conditions(stack_conditions conditions) noexcept;

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
