// Stacks for generator bodies: guard-paged and pooled by default, or carved from large blocks for a
// million live generators; sized per generator or globally.
#ifndef ASYNC_GENERATOR_STACK_HPP
#define ASYNC_GENERATOR_STACK_HPP

#include <cstddef>
#include <stdexcept>
#include <string>

namespace async_generator {

/// How a generator's stack is made.
enum class stack_policy : unsigned char {
  /// The process-wide default (`default_stack_policy()`), initially `guarded`.
  default_policy,
  /// A PROT_NONE guard page under each stack: an overflow stops at the guard page and is reported
  /// (which generator, its stack size) before the process dies. Stacks are pooled for reuse, so
  /// only the first generators pay for mapping them. Each takes two of the kernel's memory mappings:
  /// `vm.max_map_count` (65,530 by default) bounds live generators to about 32,000.
  guarded,
  /// No guard page: stacks carved from 64 MiB blocks, reused once their generator ends. A million
  /// live generators fit (resident: the pages their bodies touched). An overflow runs into the
  /// neighbouring stack, unreported: size the stacks for the bodies.
  carved,
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

/// The policy of generators whose options say `default_policy` (initially `guarded`). Process-wide.
stack_policy default_stack_policy() noexcept;
/// Throws std::invalid_argument for `default_policy`.
void set_default_stack_policy(stack_policy policy);

/// A stack could not be had: the memory or the kernel's limit on mappings (vm.max_map_count) ran
/// out. The message names the limit and the option to change.
class stack_exhausted : public std::runtime_error {
 public:
  explicit stack_exhausted(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace async_generator

#endif
