// Portability layer: everything that differs between C++14/17/20 and between Boost versions.
#ifndef ASYNC_GENERATOR_COMPAT_CONFIG_HPP
#define ASYNC_GENERATOR_COMPAT_CONFIG_HPP

#include <boost/version.hpp>

#if __cplusplus >= 201703L
#include <optional>
#else
#include <boost/optional.hpp>
#endif

// Per-operation cancellation arrived with Asio 1.19 (Boost 1.77).
#if BOOST_VERSION >= 107700
#define ASYNC_GENERATOR_HAS_CANCELLATION 1
#else
#define ASYNC_GENERATOR_HAS_CANCELLATION 0
#endif

// asio::spawn on Boost.Context fibers with completion tokens arrived with Boost 1.80.
#if BOOST_VERSION >= 108000
#define ASYNC_GENERATOR_HAS_FIBER_SPAWN 1
#else
#define ASYNC_GENERATOR_HAS_FIBER_SPAWN 0
#endif

// asio::deferred arrived with Boost 1.80.
#if BOOST_VERSION >= 108000
#define ASYNC_GENERATOR_HAS_DEFERRED 1
#else
#define ASYNC_GENERATOR_HAS_DEFERRED 0
#endif

// any_executor::target<T>() checks the target's type (returns null for another) since Boost 1.81.
#if BOOST_VERSION >= 108100
#define ASYNC_GENERATOR_HAS_CHECKED_EXECUTOR_TARGET 1
#else
#define ASYNC_GENERATOR_HAS_CHECKED_EXECUTOR_TARGET 0
#endif

#if __cplusplus >= 202002L && defined(__cpp_impl_coroutine)
#define ASYNC_GENERATOR_HAS_CO_AWAIT 1
#else
#define ASYNC_GENERATOR_HAS_CO_AWAIT 0
#endif

// Fiber switches confuse the return-address predictor: every return that crosses a switch
// mispredicts. The hot path is forced inline so a switch happens at the body's own call depth.
#if defined(__GNUC__) || defined(__clang__)
#define ASYNC_GENERATOR_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ASYNC_GENERATOR_ALWAYS_INLINE inline
#endif

// g++ 12 reports a moved-from std::optional holding a shared_ptr as maybe uninitialized
// (a known false positive, GCC bug 105562 and kin) in code that moves work guards around.
#if defined(__GNUC__) && !defined(__clang__)
#define ASYNC_GENERATOR_NO_MAYBE_UNINITIALIZED_BEGIN \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")
#define ASYNC_GENERATOR_NO_MAYBE_UNINITIALIZED_END _Pragma("GCC diagnostic pop")
#else
#define ASYNC_GENERATOR_NO_MAYBE_UNINITIALIZED_BEGIN
#define ASYNC_GENERATOR_NO_MAYBE_UNINITIALIZED_END
#endif

namespace async_generator {
namespace compat {
#if __cplusplus >= 201703L
template <class T>
using optional = std::optional<T>;
using nullopt_t = std::nullopt_t;
constexpr nullopt_t nullopt = std::nullopt;
#else
template <class T>
using optional = boost::optional<T>;
using nullopt_t = boost::none_t;
const nullopt_t nullopt = boost::none;
#endif
}  // namespace compat
}  // namespace async_generator

#endif
