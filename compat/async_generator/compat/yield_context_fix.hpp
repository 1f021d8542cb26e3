// Portability layer: Boost 1.80 and 1.81 ship an asio::yield_context whose handlers for
// exception_ptr signatures are broken: `void(std::exception_ptr, T)` does not compile, and
// `void(std::exception_ptr)` rethrows even a null exception_ptr. These more specialised
// async_results route such operations through the working single-value handler.
#ifndef ASYNC_GENERATOR_COMPAT_YIELD_CONTEXT_FIX_HPP
#define ASYNC_GENERATOR_COMPAT_YIELD_CONTEXT_FIX_HPP

#include <boost/version.hpp>

#if BOOST_VERSION >= 108000 && BOOST_VERSION < 108200
#include <boost/asio/spawn.hpp>

#include <exception>
#include <tuple>
#include <utility>

namespace async_generator {
namespace compat {

template <class Handler, class T>
struct exception_value_adapter {
  using executor_type = typename Handler::executor_type;
  using cancellation_slot_type = typename Handler::cancellation_slot_type;
  executor_type get_executor() const noexcept { return handler.get_executor(); }
  cancellation_slot_type get_cancellation_slot() const noexcept { return handler.get_cancellation_slot(); }

  void operator()(std::exception_ptr e, T value) { std::move(handler)(std::make_tuple(std::move(e), std::move(value))); }

  Handler handler;
};

template <class Handler>
struct exception_adapter {
  using executor_type = typename Handler::executor_type;
  using cancellation_slot_type = typename Handler::cancellation_slot_type;
  executor_type get_executor() const noexcept { return handler.get_executor(); }
  cancellation_slot_type get_cancellation_slot() const noexcept { return handler.get_cancellation_slot(); }

  void operator()(std::exception_ptr e) { std::move(handler)(std::make_tuple(std::move(e))); }

  Handler handler;
};

template <class Initiation>
struct exception_initiation {
  template <class Handler, class... Args>
  void operator()(Handler&& handler, Args&&... args) {
    std::move(init)(exception_adapter<typename std::decay<Handler>::type>{std::forward<Handler>(handler)},
                    std::forward<Args>(args)...);
  }
  Initiation init;
};

template <class Initiation, class T>
struct exception_value_initiation {
  template <class Handler, class... Args>
  void operator()(Handler&& handler, Args&&... args) {
    std::move(init)(exception_value_adapter<typename std::decay<Handler>::type, T>{std::forward<Handler>(handler)},
                    std::forward<Args>(args)...);
  }
  Initiation init;
};

}  // namespace compat
}  // namespace async_generator

namespace boost {
namespace asio {

template <class Executor, class R, class T>
class async_result<basic_yield_context<Executor>, R(std::exception_ptr, T)> {
 public:
  using return_type = T;

  template <class Initiation, class... InitArgs>
  static return_type initiate(Initiation&& init, const basic_yield_context<Executor>& yield, InitArgs&&... args) {
    using tuple_type = std::tuple<std::exception_ptr, T>;
    tuple_type result = async_result<basic_yield_context<Executor>, void(tuple_type)>::initiate(
        ::async_generator::compat::exception_value_initiation<typename std::decay<Initiation>::type, T>{
            std::forward<Initiation>(init)},
        yield, std::forward<InitArgs>(args)...);
    if (std::get<0>(result)) std::rethrow_exception(std::get<0>(result));
    return std::move(std::get<1>(result));
  }
};

template <class Executor, class R>
class async_result<basic_yield_context<Executor>, R(std::exception_ptr)> {
 public:
  using return_type = void;

  template <class Initiation, class... InitArgs>
  static void initiate(Initiation&& init, const basic_yield_context<Executor>& yield, InitArgs&&... args) {
    using tuple_type = std::tuple<std::exception_ptr>;
    tuple_type result = async_result<basic_yield_context<Executor>, void(tuple_type)>::initiate(
        ::async_generator::compat::exception_initiation<typename std::decay<Initiation>::type>{
            std::forward<Initiation>(init)},
        yield, std::forward<InitArgs>(args)...);
    if (std::get<0>(result)) std::rethrow_exception(std::get<0>(result));
  }
};

}  // namespace asio
}  // namespace boost
#endif

#endif
