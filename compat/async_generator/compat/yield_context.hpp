// Portability layer: asio::yield_context (Asio >= 1.24, Boost >= 1.80) for operations whose completion signature
// starts with std::exception_ptr.
//
// Boost 1.80 and 1.81 ship yield_context handlers for such signatures that are broken:
// `void(std::exception_ptr, T)` does not compile, and `void(std::exception_ptr)` rethrows even a
// null exception_ptr. These more specialised async_results route such operations through the
// single-value handler, which works on every version. They also let an initiation that offers
// `from_yield` (this library's generator operations) take the operation over: a generator on the
// coroutine's executor then runs on the coroutine's own stack, as a generator consuming another does.
#ifndef ASYNC_GENERATOR_COMPAT_YIELD_CONTEXT_HPP
#define ASYNC_GENERATOR_COMPAT_YIELD_CONTEXT_HPP

#include <async_generator/compat/config.hpp>

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
#include <async_generator/compat/asio.hpp>

#if ASYNC_GENERATOR_STANDALONE_ASIO
#include <asio/spawn.hpp>
#else
#include <boost/asio/spawn.hpp>
#endif

#include <exception>
#include <tuple>
#include <type_traits>
#include <utility>

namespace async_generator {
namespace compat {

template <class Handler, class... Ts>
struct tuple_adapter {
  using executor_type = typename Handler::executor_type;
  using cancellation_slot_type = typename Handler::cancellation_slot_type;
  executor_type get_executor() const noexcept { return handler.get_executor(); }
  cancellation_slot_type get_cancellation_slot() const noexcept { return handler.get_cancellation_slot(); }

  void operator()(std::exception_ptr e, Ts... values) {
    std::move(handler)(std::make_tuple(std::move(e), std::move(values)...));
  }

  Handler handler;
};

template <class Initiation, class... Ts>
struct tuple_initiation {
  template <class Handler, class... Args>
  void operator()(Handler&& handler, Args&&... args) {
    std::move(init)(tuple_adapter<typename std::decay<Handler>::type, Ts...>{std::forward<Handler>(handler)},
                    std::forward<Args>(args)...);
  }
  Initiation init;
};

// The operation's outcome: its exception thrown, or its value (if any) returned.
template <class... Ts>
struct yield_outcome {
  using type = void;
  static void take(std::tuple<std::exception_ptr>&& t) {
    if (std::get<0>(t)) std::rethrow_exception(std::get<0>(t));
  }
};
template <class T>
struct yield_outcome<T> {
  using type = T;
  static T take(std::tuple<std::exception_ptr, T>&& t) {
    if (std::get<0>(t)) std::rethrow_exception(std::get<0>(t));
    return std::get<1>(std::move(t));
  }
};

// Initiates an operation completing with `void(std::exception_ptr, Ts...)` (at most one T) on a
// yield_context: suspends the coroutine, then returns the value or throws the exception.
template <class... Ts, class Executor, class Initiation, class... Args>
typename yield_outcome<Ts...>::type initiate_on_yield(Initiation&& init,
                                                     const asio::basic_yield_context<Executor>& yield,
                                                     Args&&... args) {
  using tuple_type = std::tuple<std::exception_ptr, Ts...>;
  return yield_outcome<Ts...>::take(
      asio::async_result<asio::basic_yield_context<Executor>, void(tuple_type)>::initiate(
          tuple_initiation<typename std::decay<Initiation>::type, Ts...>{std::forward<Initiation>(init)}, yield,
          std::forward<Args>(args)...));
}

template <class T, class = void>
struct has_from_yield : std::false_type {};
template <class T>
struct has_from_yield<T, typename T::from_yield_initiation> : std::true_type {};

template <class... Ts, class Executor, class Initiation, class... Args>
typename yield_outcome<Ts...>::type yield_dispatch(std::false_type, Initiation&& init,
                                                  const asio::basic_yield_context<Executor>& yield,
                                                  Args&&... args) {
  return initiate_on_yield<Ts...>(std::forward<Initiation>(init), yield, std::forward<Args>(args)...);
}
template <class... Ts, class Executor, class Initiation, class... Args>
ASYNC_GENERATOR_ALWAYS_INLINE typename yield_outcome<Ts...>::type yield_dispatch(std::true_type, Initiation&& init,
                                                  const asio::basic_yield_context<Executor>& yield,
                                                  Args&&... args) {
  return init.from_yield(yield, std::forward<Args>(args)...);
}

}  // namespace compat
}  // namespace async_generator

ASYNC_GENERATOR_ASIO_NAMESPACE_BEGIN

template <class Executor, class R, class T>
class async_result<basic_yield_context<Executor>, R(std::exception_ptr, T)> {
 public:
  using return_type = T;

  template <class Initiation, class... InitArgs>
  ASYNC_GENERATOR_ALWAYS_INLINE static return_type initiate(Initiation&& init, const basic_yield_context<Executor>& yield,
                                                            InitArgs&&... args) {
    namespace c = ::async_generator::compat;
    return c::yield_dispatch<T>(c::has_from_yield<typename std::decay<Initiation>::type>(),
                                std::forward<Initiation>(init), yield, std::forward<InitArgs>(args)...);
  }
};

template <class Executor, class R>
class async_result<basic_yield_context<Executor>, R(std::exception_ptr)> {
 public:
  using return_type = void;

  template <class Initiation, class... InitArgs>
  ASYNC_GENERATOR_ALWAYS_INLINE static void initiate(Initiation&& init, const basic_yield_context<Executor>& yield,
                                                     InitArgs&&... args) {
    namespace c = ::async_generator::compat;
    c::yield_dispatch<>(c::has_from_yield<typename std::decay<Initiation>::type>(), std::forward<Initiation>(init),
                        yield, std::forward<InitArgs>(args)...);
  }
};

ASYNC_GENERATOR_ASIO_NAMESPACE_END
#endif

#endif
