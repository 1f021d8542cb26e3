// aclosing: contextlib.aclosing, the async context manager that closes what it holds.
#ifndef ASYNC_GENERATOR_ACLOSING_HPP
#define ASYNC_GENERATOR_ACLOSING_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/detail/traits.hpp>

#include <exception>
#include <functional>
#include <type_traits>
#include <utility>

namespace async_generator {
namespace detail {

template <class Thing>
struct aclosing_enter {
  Thing* thing;
  bool posted = false;
  template <class Self>
  void operator()(Self& self) {
    if (!posted) {
      // Nothing to wait for, but the handler must not run inside the initiating function.
      posted = true;
      asio::post(std::move(self));
      return;
    }
    self.complete(std::exception_ptr(), std::ref(*thing));
  }
};

template <class Thing>
struct aclosing_exit {
  Thing* thing;
  template <class Self>
  void operator()(Self& self) {
    thing->aclose(std::move(self));
  }
  template <class Self>
  void operator()(Self& self, std::exception_ptr error) {
    self.complete(std::move(error), false);
  }
};

}  // namespace detail

/// Python's `contextlib.aclosing(thing)`: an async context manager whose exit awaits
/// `thing.aclose()` and never suppresses the exception it is given. `Thing` is any type with
/// `aclose(token)` completing with `void(std::exception_ptr)`; `aclosing(x)` with an lvalue refers to
/// `x`, with an rvalue owns it. Its operations' default executor (for handlers that have none) is
/// the thing's `get_executor()`, or the one given to `aclosing(x, ex)`. Use it with `async_with`, or
/// call `aenter` and `aexit` directly.
template <class Thing>
class aclosing_manager {
  using thing_type = typename std::remove_reference<Thing>::type;
  static_assert(detail::has_aclose<thing_type, detail::probe_handler>::value,
                "aclosing needs something with aclose(token), such as an async_generator");

 public:
  using executor_type = asio::any_io_executor;
  /// What `aenter` completes with: the thing itself.
  using value_type = std::reference_wrapper<thing_type>;
  using enter_signature = void(std::exception_ptr, value_type);
  using exit_signature = void(std::exception_ptr, bool);

  aclosing_manager(Thing thing, executor_type ex) : thing_(std::forward<Thing>(thing)), ex_(std::move(ex)) {}

  /// The default executor of `aenter` and `aexit`.
  const executor_type& get_executor() const noexcept { return ex_; }

  /// The thing (Python's `thing` attribute).
  thing_type& thing() noexcept { return thing_; }

  /// Python's `__aenter__`: completes with the thing itself.
  ///
  /// Completion signature: `void(std::exception_ptr, std::reference_wrapper<Thing>)`; never an error.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto aenter(CompletionToken&& token = asio::default_completion_token_t<executor_type>()) {
    return asio::async_compose<CompletionToken, enter_signature>(
        detail::aclosing_enter<thing_type>{&thing_}, token, ex_);
  }

  /// Python's `__aexit__`: awaits `thing.aclose()`; `error` (the block's exception, or null) is
  /// never suppressed.
  ///
  /// Completion signature: `void(std::exception_ptr, bool)`: the exception `aclose` raised (null if
  /// none), and `false`, the "suppress" answer.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto aexit(std::exception_ptr error, CompletionToken&& token = asio::default_completion_token_t<executor_type>()) {
    (void)error;
    return asio::async_compose<CompletionToken, exit_signature>(detail::aclosing_exit<thing_type>{&thing_},
                                                                       token, ex_);
  }

 private:
  Thing thing_;
  executor_type ex_;
};

/// Python's `aclosing(thing)`: `async_with(ag::aclosing(gen), token, body)` closes `gen` when the
/// body ends, however it ends.
template <class Thing>
aclosing_manager<Thing> aclosing(Thing&& thing) {
  static_assert(detail::has_executor<typename std::decay<Thing>::type>::value,
                "aclosing(thing): thing has no get_executor(); pass the executor its operations complete on, "
                "aclosing(thing, ex)");
  auto ex = asio::any_io_executor(thing.get_executor());
  return aclosing_manager<Thing>(std::forward<Thing>(thing), std::move(ex));
}

/// `aclosing(thing)` for a thing that has no `get_executor()`: `ex` is the operations' default
/// executor.
template <class Thing, class Executor>
aclosing_manager<Thing> aclosing(Thing&& thing, const Executor& ex) {
  return aclosing_manager<Thing>(std::forward<Thing>(thing), asio::any_io_executor(ex));
}

}  // namespace async_generator

#endif
