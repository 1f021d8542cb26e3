// Stacks for generator bodies: guard-paged, pooled, sized per generator or globally.
#ifndef ASYNC_GENERATOR_STACK_HPP
#define ASYNC_GENERATOR_STACK_HPP

#include <cstddef>
#include <stdexcept>
#include <string>

namespace async_generator {

/// How a generator's stack is made. `size` 0 means the global default (`default_stack_size()`).
struct stack_options {
  std::size_t size = 0;
};

/// The stack size given to generators that do not ask for one (initially 64 KiB). Process-wide.
std::size_t default_stack_size() noexcept;
void set_default_stack_size(std::size_t bytes);

/// A stack could not be had: the memory or the kernel's limit on mappings (vm.max_map_count) ran
/// out. The message names the limit and the option to change.
class stack_exhausted : public std::runtime_error {
 public:
  explicit stack_exhausted(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace async_generator

#endif
