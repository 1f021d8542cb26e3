// async_with: Python's `async with manager as value: body`, for fiber code and for callback code.
#ifndef ASYNC_GENERATOR_ASYNC_WITH_HPP
#define ASYNC_GENERATOR_ASYNC_WITH_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/compat/config.hpp>
#include <async_generator/compat/fiber.hpp>
#include <async_generator/compat/yield_context.hpp>
#include <async_generator/context.hpp>
#include <async_generator/detail/frame.hpp>
#include <async_generator/detail/traits.hpp>
#include <async_generator/errors.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace async_generator {
namespace detail {

// Tokens whose operations suspend the calling fiber and return the result: there the block is an
// ordinary function run between the manager's enter and exit.
template <class Token>
struct is_fiber_token : std::false_type {};
template <class Y, class S>
struct is_fiber_token<context<Y, S>> : std::true_type {};
#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
template <class Executor>
struct is_fiber_token<asio::basic_yield_context<Executor>> : std::true_type {};
#endif

// The entered value as the block sees it: a manager that enters with a reference_wrapper (aclosing)
// gives the block the object itself.
template <class T>
T& entered(T& value) noexcept {
  return value;
}
template <class T>
T& entered(std::reference_wrapper<T>& value) noexcept {
  return value.get();
}

// The exception `block()` raises, or null; the fiber's own destruction goes through.
template <class Block>
std::exception_ptr raised_by(Block&& block) {
  try {
    block();
  } catch (const compat::forced_unwind&) {
    throw;  // the fiber is being destroyed: nothing may await any more
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

// The exit awaits outside any catch block: a fiber switch inside one would interleave this thread's
// stack of caught exceptions with the other fiber's.
template <class Manager, class Token>
void exit_on_fiber(Manager& manager, const Token& token, std::exception_ptr raised) {
  if (!raised) {
    manager.aexit(std::exception_ptr(), token);
  } else if (!manager.aexit(raised, token)) {
    std::rethrow_exception(raised);
  }
}

template <class Manager, class Token, class Body>
void with_on_fiber(Manager& manager, const Token& token, Body& body, std::false_type /* enters with nothing */) {
  typename Manager::value_type value = manager.aenter(token);
  exit_on_fiber(manager, token, raised_by([&] { body(entered(value)); }));
}
template <class Manager, class Token, class Body>
void with_on_fiber(Manager& manager, const Token& token, Body& body, std::true_type /* enters with nothing */) {
  manager.aenter(token);
  exit_on_fiber(manager, token, raised_by([&] { body(); }));
}

// The state of an `async_with` driven by callbacks: the manager (owned when given as an rvalue), the
// block, the entered value, and the final handler with work on its executor.
template <class ManagerRef, class Body, class Handler>
struct with_state {
  using manager_type = typename std::remove_reference<ManagerRef>::type;
  using executor_type = asio::associated_executor_t<Handler, asio::any_io_executor>;
  using allocator_type = asio::associated_allocator_t<Handler>;

  with_state(ManagerRef manager, Body body, Handler handler)
      : manager(std::forward<ManagerRef>(manager)),
        body(std::move(body)),
        handler(std::move(handler)),
        executor(asio::get_associated_executor(this->handler, manager_executor())),
        manager_work(compat::track_work(manager_executor())),
        work(compat::track_work(executor)) {}

  asio::any_io_executor manager_executor() const { return asio::any_io_executor(manager.get_executor()); }

  void complete(std::exception_ptr error) {
    auto w = std::move(work);
    asio::dispatch(w, [h = std::move(handler), error]() mutable { std::move(h)(error); });
  }

  ManagerRef manager;
  Body body;
  Handler handler;
  executor_type executor;
  // Like an Asio composed operation, work on the manager's executor and on the handler's.
  compat::tracked_executor_t<asio::any_io_executor> manager_work;
  compat::tracked_executor_t<executor_type> work;
  compat::optional<value_t<typename manager_type::value_type>> value;
  std::exception_ptr raised;  // the block's exception
  bool done_called = false;
};

// The handlers of a callback-driven async_with's steps: each carries the state and the final
// handler's associated executor and allocator.
template <class State>
class with_step {
 public:
  using executor_type = typename State::executor_type;
  using allocator_type = typename State::allocator_type;

  explicit with_step(std::shared_ptr<State> state) noexcept : state_(std::move(state)) {}
  executor_type get_executor() const noexcept { return state_->executor; }
  allocator_type get_allocator() const noexcept { return asio::get_associated_allocator(state_->handler); }

 protected:
  static void exit(std::shared_ptr<State> s, std::exception_ptr raised);
  std::shared_ptr<State> state_;
};

// The manager's aexit completed.
template <class State>
struct with_exited : with_step<State> {
  using with_step<State>::with_step;
  void operator()(std::exception_ptr error, bool suppress) {
    std::shared_ptr<State> s = std::move(this->state_);
    if (!error && s->raised && !suppress) error = s->raised;
    s->complete(std::move(error));
  }
};

// The block completed: the `done` a callback-style block is given.
template <class State>
struct with_done : with_step<State> {
  using with_step<State>::with_step;
  void operator()(std::exception_ptr raised) {
    if (!this->state_ || this->state_->done_called) {
      throw misuse_error("async_with: the block called done twice (it calls it once)");
    }
    std::shared_ptr<State> s = std::move(this->state_);
    s->done_called = true;
    this->exit(std::move(s), std::move(raised));
  }
};

template <class State>
void with_step<State>::exit(std::shared_ptr<State> s, std::exception_ptr raised) {
  s->raised = raised;
  auto& manager = s->manager;
  manager.aexit(std::move(raised), with_exited<State>(std::move(s)));
}

// The manager's aenter completed: the block runs.
template <class State>
struct with_entered : with_step<State> {
  using with_step<State>::with_step;

  template <class... Value>
  void operator()(std::exception_ptr error, Value&&... value) {
    std::shared_ptr<State> s = std::move(this->state_);
    if (error) {
      s->complete(std::move(error));
      return;
    }
    std::exception_ptr thrown;
    try {
      run_block(*s, with_done<State>(s), std::forward<Value>(value)...);
    } catch (...) {
      thrown = std::current_exception();
    }
    if (!thrown) return;
    // A block that throws instead of calling done raised that exception, provided it let go of done;
    // otherwise the throw is a misuse, and goes where a handler's exceptions go (out of run()).
    if (s->done_called || s.use_count() > 1) std::rethrow_exception(thrown);
    this->exit(std::move(s), std::move(thrown));
  }

 private:
  static void run_block(State& s, with_done<State>&& done) { s.body(std::move(done)); }
  template <class V>
  static void run_block(State& s, with_done<State>&& done, V&& value) {
    s.value.emplace(std::forward<V>(value));
    s.body(entered(*s.value), std::move(done));
  }
};

template <class Manager>
struct with_initiation {
  static_assert(has_executor<typename std::decay<Manager>::type>::value,
                "async_with with a callback-style token needs a manager with get_executor(), the default "
                "executor of its steps");
  Manager manager;  // a reference for an lvalue manager
  template <class Handler, class Body>
  void operator()(Handler&& handler, Body&& body) {
    using state = with_state<Manager, typename std::decay<Body>::type, typename std::decay<Handler>::type>;
    auto s = std::make_shared<state>(std::forward<Manager>(manager), std::forward<Body>(body),
                                     std::forward<Handler>(handler));
    auto& m = s->manager;
    m.aenter(with_entered<state>(std::move(s)));
  }
};

template <class Manager, class Token, class Body>
void with_dispatch(Manager&& manager, Token& token, Body&& body, std::true_type /* fiber token */) {
  with_on_fiber(manager, token, body, std::is_void<typename std::decay<Manager>::type::value_type>());
}
template <class Manager, class Token, class Body>
auto with_dispatch(Manager&& manager, Token& token, Body&& body, std::false_type /* fiber token */) {
  return asio::async_initiate<Token, void(std::exception_ptr)>(
      with_initiation<Manager>{std::forward<Manager>(manager)}, token, std::forward<Body>(body));
}

}  // namespace detail

/// Python's `async with manager as value: block`.
///
/// `manager` is an async context manager: `aenter(token)` completing with `void(std::exception_ptr,
/// V)` (or `void(std::exception_ptr)`, entering with nothing) and `aexit(std::exception_ptr, token)`
/// completing with `void(std::exception_ptr, bool)` (the exception that replaces the block's, and
/// whether the block's is suppressed), such as `aclosing(...)` and what an `asynccontextmanager`
/// function makes. Given as an rvalue, the manager is kept by the operation; as an lvalue, it must
/// outlive it.
///
/// In fiber code (`token` is a generator body's `co` or an `asio::yield_context`), `block(value)`
/// runs on the fiber between enter and exit, and `async_with` returns when the exit has completed,
/// throwing the block's exception unless the manager suppressed it, or the exception the exit
/// raised. If the fiber is being unwound (its generator destroyed), the exit does not run: it could
/// not await.
///
/// With any other token (a callback, `use_future`, `use_awaitable`, `deferred`...), `block(value,
/// done)` is itself asynchronous and calls `done(std::exception_ptr)` once, with the block's
/// exception or null; a block that throws instead (without calling or keeping `done`) raised that
/// exception. Completion signature: `void(std::exception_ptr)`: null when the block ended normally or
/// its exception was suppressed, else the exception that propagates. The enter and exit steps, and
/// the block, run on the handler's associated executor (default: the manager's `get_executor()`).
template <class Manager, class CompletionToken, class Block>
auto async_with(Manager&& manager, CompletionToken&& token, Block&& block) {
  return detail::with_dispatch(std::forward<Manager>(manager), token, std::forward<Block>(block),
                               detail::is_fiber_token<typename std::decay<CompletionToken>::type>());
}

}  // namespace async_generator

#endif
