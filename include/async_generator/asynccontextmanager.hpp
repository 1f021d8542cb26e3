// asynccontextmanager: contextlib.asynccontextmanager, a generator function that yields once turned
// into a factory of async context managers, with CPython 3.13's exit rules.
#ifndef ASYNC_GENERATOR_ASYNCCONTEXTMANAGER_HPP
#define ASYNC_GENERATOR_ASYNCCONTEXTMANAGER_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/async_for.hpp>
#include <async_generator/async_generator.hpp>
#include <async_generator/errors.hpp>
#include <async_generator/generator_function.hpp>
#include <async_generator/inspect.hpp>

#include <exception>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace async_generator {
namespace detail {

template <class Generator>
struct manager_enter {
  Generator* gen;
  template <class Self>
  void operator()(Self& self) {
    gen->anext(std::move(self));
  }
  template <class Self, class... Value>
  void operator()(Self& self, std::exception_ptr error, Value&&... value) {
    // Python: `raise RuntimeError("generator didn't yield") from None`: no cause.
    if (error && is_stop(error)) error = std::make_exception_ptr(runtime_error(errors::didnt_yield));
    self.complete(std::move(error), std::forward<Value>(value)...);
  }
};

// contextlib's answer to what the generator did with the exception thrown into it: `suppress` when
// the generator swallowed it, `error` when something else must propagate instead.
struct exit_outcome {
  std::exception_ptr error;
  bool suppress;
};
exit_outcome judge_athrow(const std::exception_ptr& raised, const std::exception_ptr& thrown) noexcept;

template <class Generator>
struct manager_exit {
  manager_exit(Generator* g, std::exception_ptr e) noexcept : gen(g), thrown(std::move(e)) {}

  enum class step { resume, close };
  Generator* gen;
  std::exception_ptr thrown;  // the block's exception, or null on a normal exit
  step at = step::resume;
  std::exception_ptr didnt_stop;

  template <class Self>
  void operator()(Self& self) {
    if (thrown) {
      gen->athrow(thrown, std::move(self));
    } else {
      gen->anext(std::move(self));
    }
  }

  template <class Self, class... Value>
  void operator()(Self& self, std::exception_ptr error, Value&&...) {
    if (at == step::close) {
      // Python's `finally: await self.gen.aclose()`: an error of aclose replaces "didn't stop".
      self.complete(error ? std::move(error) : std::move(didnt_stop), false);
      return;
    }
    if (!error) {
      // The generator yielded again: it is closed, then "didn't stop" propagates.
      didnt_stop = std::make_exception_ptr(runtime_error(thrown ? errors::didnt_stop_after_athrow : errors::didnt_stop));
      at = step::close;
      gen->aclose(std::move(self));
      return;
    }
    if (!thrown) {
      if (is_stop(error)) {
        self.complete(std::exception_ptr(), false);
      } else {
        self.complete(std::move(error), false);
      }
      return;
    }
    exit_outcome outcome = judge_athrow(error, thrown);
    self.complete(std::move(outcome.error), outcome.suppress);
  }
};

}  // namespace detail

/// What an `asynccontextmanager` function makes (contextlib's `_AsyncGeneratorContextManager`): an
/// async context manager that drives a generator yielding once. The generator exists from the
/// manager's construction, as in Python; the manager must stay in place while an operation runs.
template <class Generator>
class generator_context_manager {
 public:
  using generator_type = Generator;
  using executor_type = typename Generator::executor_type;
  /// What `aenter` completes with: what the generator yields.
  using value_type = typename Generator::yield_type;
  using enter_signature = typename Generator::next_signature;
  using exit_signature = void(std::exception_ptr, bool);

  explicit generator_context_manager(Generator gen) : gen_(std::move(gen)) {}

  /// The generator's executor.
  executor_type get_executor() const { return gen_.get_executor(); }

  /// The generator (Python's `gen` attribute).
  Generator& gen() noexcept { return gen_; }

  /// Python's `__aenter__`: runs the generator to its yield.
  ///
  /// Completion signature: `void(std::exception_ptr, Y)` (`void(std::exception_ptr)` when the
  /// generator yields nothing). Errors: `runtime_error` "generator didn't yield" (no cause) when the
  /// generator ends without yielding; any exception the generator raises.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto aenter(CompletionToken&& token = asio::default_completion_token_t<executor_type>()) {
    return asio::async_compose<CompletionToken, enter_signature>(detail::manager_enter<Generator>{&gen_}, token,
                                                                        gen_.get_executor());
  }

  /// Python's `__aexit__`: with no `error`, resumes the generator, which must end; with one, raises it
  /// in the generator at its yield (`athrow`). The generator is finished or closed when it completes.
  ///
  /// Completion signature: `void(std::exception_ptr, bool)`: the exception that must propagate
  /// instead of `error` (null when `error` itself propagates or is suppressed), and whether `error`
  /// is suppressed, which it is only when the generator swallowed it and ended. Errors, as in
  /// CPython 3.13: `runtime_error` "generator didn't stop" (normal exit) or "generator didn't stop
  /// after athrow()" when the generator yields again (it is then closed, and an error of that close
  /// propagates instead); a different exception the generator raised. A `stop_async_iteration`
  /// passed in, or a `std::runtime_error` raised from the exception passed in when that is a
  /// `stop_async_iteration` (an `ag::runtime_error` with it as `cause()`, or a `std::nested_exception`
  /// nesting it, as `std::throw_with_nested` makes), is neither suppressed nor replaced: the original
  /// propagates.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto aexit(std::exception_ptr error, CompletionToken&& token = asio::default_completion_token_t<executor_type>()) {
    return asio::async_compose<CompletionToken, exit_signature>(
        detail::manager_exit<Generator>(&gen_, std::move(error)), token, gen_.get_executor());
  }

 private:
  Generator gen_;
};

/// What `asynccontextmanager` returns: `f(ex, args...)` makes a `generator_context_manager` whose
/// generator is `generator_function(ex, args...)`.
namespace detail {
template <class GeneratorFunction, bool = is_async_generator_function<GeneratorFunction>::value>
struct manager_of {
  using type = void;
};
template <class GeneratorFunction>
struct manager_of<GeneratorFunction, true> {
  using type = generator_context_manager<typename GeneratorFunction::generator_type>;
};
}  // namespace detail

template <class GeneratorFunction>
class context_manager_function {
  static_assert(is_async_generator_function<GeneratorFunction>::value,
                "asynccontextmanager needs a generator function: pass the result of "
                "ag::make_generator_function(body), as Python's @asynccontextmanager goes on top of "
                "@async_generator");

 public:
  using manager_type = typename detail::manager_of<GeneratorFunction>::type;

  explicit context_manager_function(GeneratorFunction fn) : fn_(std::move(fn)) {}

  template <class ExecutorOrContext, class... Args>
  manager_type operator()(ExecutorOrContext&& ex, Args&&... args) const {
    return manager_type(fn_(std::forward<ExecutorOrContext>(ex), std::forward<Args>(args)...));
  }

  /// The generator function (Python's `__wrapped__`).
  const GeneratorFunction& wrapped() const noexcept { return fn_; }

 private:
  GeneratorFunction fn_;
};

/// Python's `@asynccontextmanager`: `fn` is a generator function (`make_generator_function`) whose
/// generator yields once; anything else is refused at compile time, as Python refuses it when
/// decorating.
template <class GeneratorFunction>
context_manager_function<typename std::decay<GeneratorFunction>::type> asynccontextmanager(GeneratorFunction&& fn) {
  return context_manager_function<typename std::decay<GeneratorFunction>::type>(std::forward<GeneratorFunction>(fn));
}

}  // namespace async_generator

#endif
