// What the top of every generator stack records: how the stack was made (so it goes back to the
// right pool), who runs on it, and what an overflow report says.
#ifndef ASYNC_GENERATOR_LIB_STACK_HEADER_HPP
#define ASYNC_GENERATOR_LIB_STACK_HEADER_HPP

#include <atomic>
#include <cstddef>

namespace async_generator {
namespace detail {

enum class stack_kind : unsigned char {
  guard_mapping,  // a mapping of its own, its lowest page mprotect'd: two kernel mappings
  guard_region,   // carved from a block, a guard region below it: no mapping of its own
  carved,         // carved from a block, nothing below it
  canary,         // carved from a block, a canary at its lowest bytes checked at each suspension
};

struct stack_header {
  unsigned long long serial = 0;            // the owning generator's (stack_owner_serial), 0 when none
  std::atomic<const void*> owner{nullptr};  // the generator running on the stack
  std::size_t size = 0;                     // its usable size
  unsigned valgrind_id = 0;                 // its registration with valgrind, when built for it
  stack_kind kind = stack_kind::carved;
};

}  // namespace detail
}  // namespace async_generator

#endif
