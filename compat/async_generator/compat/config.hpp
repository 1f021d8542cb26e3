// Portability layer: which Asio the library is built on, and what differs between C++ standards
// and between Asio and Boost versions. Every other file asks these macros, never a version number.
#ifndef ASYNC_GENERATOR_COMPAT_CONFIG_HPP
#define ASYNC_GENERATOR_COMPAT_CONFIG_HPP

// The one choice of Asio: Boost.Asio (0, namespace boost::asio) or standalone Asio (1, namespace
// asio). The build defines it (meson -Dasio=standalone, the installed pkg-config file and CMake
// package); library and consumer must agree, and a program that mixes them does not link.
#ifndef ASYNC_GENERATOR_STANDALONE_ASIO
#define ASYNC_GENERATOR_STANDALONE_ASIO 0
#endif

#include <boost/version.hpp>  // Boost.Context is the fiber back-end on both
#if ASYNC_GENERATOR_STANDALONE_ASIO
#include <asio/version.hpp>
#define ASYNC_GENERATOR_ASIO_VERSION ASIO_VERSION
#define ASYNC_GENERATOR_ASIO_NAME "standalone Asio"
#define ASYNC_GENERATOR_ASIO_VERSION_NAME "ASIO_VERSION"
#else
#include <boost/asio/version.hpp>
#define ASYNC_GENERATOR_ASIO_VERSION BOOST_ASIO_VERSION
#define ASYNC_GENERATOR_ASIO_NAME "Boost.Asio"
#define ASYNC_GENERATOR_ASIO_VERSION_NAME "BOOST_ASIO_VERSION"
#endif

#if __cplusplus >= 201703L
#include <optional>
#else
#include <boost/optional.hpp>
#endif

// ASYNC_GENERATOR_ASIO_VERSION is XYYYZZ for Asio X.YYY.ZZ, whichever Asio it is. Asio's versions
// against Boost's: 1.18 is Boost 1.74, 1.19 Boost 1.77, 1.24 Boost 1.80, 1.26 Boost 1.81, 1.28
// Boost 1.83, 1.31 Boost 1.86, 1.38 Boost 1.90.

// Per-operation cancellation arrived with Asio 1.19 (Boost 1.77).
#if ASYNC_GENERATOR_ASIO_VERSION >= 101900
#define ASYNC_GENERATOR_HAS_CANCELLATION 1
#else
#define ASYNC_GENERATOR_HAS_CANCELLATION 0
#endif

// asio::post and asio::dispatch hand an executor the function wrapped in a binder0 (bind_handler)
// since Asio 1.19 (Boost 1.77); Asio 1.18 hands it over as it is.
#if ASYNC_GENERATOR_ASIO_VERSION >= 101900
#define ASYNC_GENERATOR_ASIO_BINDS_POSTED_FUNCTIONS 1
#else
#define ASYNC_GENERATOR_ASIO_BINDS_POSTED_FUNCTIONS 0
#endif

// asio::spawn on Boost.Context fibers with completion tokens, and asio::deferred, arrived with
// Asio 1.24 (Boost 1.80); before, spawn ran on Boost.Coroutine and deferred was experimental.
#if ASYNC_GENERATOR_ASIO_VERSION >= 102400
#define ASYNC_GENERATOR_HAS_FIBER_SPAWN 1
#define ASYNC_GENERATOR_HAS_DEFERRED 1
#else
#define ASYNC_GENERATOR_HAS_FIBER_SPAWN 0
#define ASYNC_GENERATOR_HAS_DEFERRED 0
#endif

// any_executor::target<T>() checks the target's type (returns null for another), and
// any_completion_handler exists, since Asio 1.26 (Boost 1.81).
#if ASYNC_GENERATOR_ASIO_VERSION >= 102600
#define ASYNC_GENERATOR_HAS_CHECKED_EXECUTOR_TARGET 1
#define ASYNC_GENERATOR_HAS_ANY_COMPLETION_HANDLER 1
#else
#define ASYNC_GENERATOR_HAS_CHECKED_EXECUTOR_TARGET 0
#define ASYNC_GENERATOR_HAS_ANY_COMPLETION_HANDLER 0
#endif

// Asio 1.18 (Boost 1.74) allocates twice for each completion of an operation awaited by a body
// consumed through a callback; Asio 1.22 and later recycle that memory (both measured).
#if ASYNC_GENERATOR_ASIO_VERSION >= 102200
#define ASYNC_GENERATOR_ASIO_RECYCLES_AWAIT_COMPLETIONS 1
#else
#define ASYNC_GENERATOR_ASIO_RECYCLES_AWAIT_COMPLETIONS 0
#endif

// cancel_after and cancel_at, and asio::deferred as the default completion token of operations
// called without one, arrived with Asio 1.31 (Boost 1.86).
#if ASYNC_GENERATOR_ASIO_VERSION >= 103100
#define ASYNC_GENERATOR_HAS_CANCEL_AFTER 1
#define ASYNC_GENERATOR_HAS_DEFERRED_BY_DEFAULT 1
#else
#define ASYNC_GENERATOR_HAS_CANCEL_AFTER 0
#define ASYNC_GENERATOR_HAS_DEFERRED_BY_DEFAULT 0
#endif

// Asio 1.32 (Boost 1.87) reads an execution context's settings, the concurrency hint among them,
// from its configuration (asio::config); before, the io_context's scheduler holds the hint.
#if ASYNC_GENERATOR_ASIO_VERSION >= 103200
#define ASYNC_GENERATOR_HAS_ASIO_CONFIG 1
#else
#define ASYNC_GENERATOR_HAS_ASIO_CONFIG 0
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

// A function the optimiser must call every time, never inferring what it returns from its body
// (even with link-time optimisation): for a value that changes when a fiber moves to another thread.
#if defined(__clang__)
#define ASYNC_GENERATOR_OPAQUE __attribute__((noinline, optnone))
#elif defined(__GNUC__)
#define ASYNC_GENERATOR_OPAQUE __attribute__((noinline, noipa))
#else
#define ASYNC_GENERATOR_OPAQUE
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
