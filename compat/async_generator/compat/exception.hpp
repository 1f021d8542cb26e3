// Portability layer: what the C++ runtime (the Itanium C++ ABI's, libstdc++'s or libc++abi's) says
// about the exceptions of this thread that the standard library of every C++ version does not.
#ifndef ASYNC_GENERATOR_COMPAT_EXCEPTION_HPP
#define ASYNC_GENERATOR_COMPAT_EXCEPTION_HPP

#include <cxxabi.h>

#include <exception>
#include <typeinfo>

namespace async_generator {
namespace compat {

// std::uncaught_exceptions(), which C++14's standard library lacks: the count the Itanium C++ ABI's
// runtime (libstdc++'s, libc++abi's) keeps per thread.
#if __cplusplus >= 201703L
inline int uncaught_exceptions() noexcept { return std::uncaught_exceptions(); }
#else
inline int uncaught_exceptions() noexcept {
  struct eh_globals {
    void* caught;
    unsigned int uncaught;
  };
  return static_cast<int>(reinterpret_cast<const eh_globals*>(abi::__cxa_get_globals())->uncaught);
}
#endif

// The type of the exception being handled (inside a catch block), whatever it is; null outside one.
inline const std::type_info* current_exception_type() noexcept { return abi::__cxa_current_exception_type(); }

}  // namespace compat
}  // namespace async_generator

#endif
