// Portability layer: telling valgrind about the stacks the library maps, when built for it
// (meson's -Dvalgrind), and nothing otherwise.
#ifndef ASYNC_GENERATOR_COMPAT_VALGRIND_HPP
#define ASYNC_GENERATOR_COMPAT_VALGRIND_HPP

#if ASYNC_GENERATOR_VALGRIND
#include <valgrind/valgrind.h>
#endif

namespace async_generator {
namespace compat {

// Valgrind takes a jump to another stack for a huge frame unless it knows the stack: the library
// registers every stack for as long as it is mapped (pooled and carved stacks stay registered while unused).
inline unsigned register_stack_with_valgrind(const char* lo, const char* hi) noexcept {
#if ASYNC_GENERATOR_VALGRIND
  return VALGRIND_STACK_REGISTER(lo, hi);
#else
  (void)lo;
  (void)hi;
  return 0;
#endif
}

inline void deregister_stack_with_valgrind(unsigned id) noexcept {
#if ASYNC_GENERATOR_VALGRIND
  VALGRIND_STACK_DEREGISTER(id);
#else
  (void)id;
#endif
}

}  // namespace compat
}  // namespace async_generator

#endif
