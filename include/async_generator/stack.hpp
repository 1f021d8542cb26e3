// Stacks for generator bodies: pooled, guarded where that costs no kernel limit, carved from large
// blocks for a million live generators; sized per generator or globally.
#ifndef ASYNC_GENERATOR_STACK_HPP
#define ASYNC_GENERATOR_STACK_HPP

#include <cstddef>
#include <stdexcept>
#include <string>

namespace async_generator {

/// How a generator's stack is made. Every policy pools its stacks by size: after the first
/// generators of a size, making one takes a stack another gave back, with no system call; a live
/// generator costs the pages of its stack its body touched.
enum class stack_policy : unsigned char {
  /// The process-wide default (`default_stack_policy()`), initially `adaptive`.
  default_policy,
  /// A guard page under each stack, always: an overflow faults on it and is reported (which
  /// generator, its stack size) before the process dies of the SIGSEGV. On Linux 6.13 and later the
  /// stacks are carved from 64 MiB blocks mapped without reserve, each guard page a guard region
  /// (madvise MADV_GUARD_INSTALL), which takes no kernel mapping: a million live generators fit, for
  /// a system call when a stack is first made. On older kernels each stack is a mapping of its own
  /// with an mprotect'd page: two kernel mappings, so `vm.max_map_count` (65,530 by default) bounds
  /// live generators to about 32,000, and the next fails with `stack_exhausted`.
  guarded,
  /// No guard page: stacks carved from 64 MiB blocks mapped without reserve, on every kernel. A
  /// million live generators fit. An overflow runs into the neighbouring stack, unreported: size the
  /// stacks for the bodies.
  carved,
  /// The default: a guard page under each stack wherever it costs no kernel mapping, and never a
  /// failure for want of mappings. On Linux 6.13 and later, `guarded` (guard regions). On older
  /// kernels, `guarded`'s mappings while the library's guarded stacks in mappings of their own
  /// number less than a quarter of `vm.max_map_count`; past that, carved stacks with a canary at
  /// their lowest bytes, checked each time the body leaves its stack (a yield, an await, a
  /// delegation, an item taken from another generator, its end): an overflow that wrote over it is
  /// reported as a guard page's is, after the fact, and the process aborts. A canary stack costs a
  /// check at each of those switches and keeps its lowest page resident; an overflow that skips the
  /// canary goes unreported.
  adaptive,
};

/// How a generator's stack is made. `size` 0 means the global default (`default_stack_size()`).
struct stack_options {
  std::size_t size = 0;
  stack_policy policy = stack_policy::default_policy;
};

/// The stack size given to generators that do not ask for one (initially 64 KiB). Process-wide.
std::size_t default_stack_size() noexcept;
/// Throws std::invalid_argument for less than two pages.
void set_default_stack_size(std::size_t bytes);

/// The policy of generators whose options say `default_policy` (initially `adaptive`). Process-wide.
stack_policy default_stack_policy() noexcept;
/// Throws std::invalid_argument for `default_policy`.
void set_default_stack_policy(stack_policy policy);

/// A stack could not be had: the memory, the address space or the kernel's limit on mappings
/// (vm.max_map_count) ran out. The message names the limit and the option to change.
class stack_exhausted : public std::runtime_error {
 public:
  explicit stack_exhausted(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace async_generator

#endif
