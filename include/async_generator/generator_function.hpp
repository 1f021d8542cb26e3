// generator_function: the mirror of Python's @async_generator decorator. It turns a body callable
// `R body(context<Y, S>, Args...)` into a function that, called with an executor and the
// arguments, returns a fresh generator.
#ifndef ASYNC_GENERATOR_GENERATOR_FUNCTION_HPP
#define ASYNC_GENERATOR_GENERATOR_FUNCTION_HPP

#include <async_generator/async_generator.hpp>
#include <async_generator/context.hpp>
#include <async_generator/stack.hpp>

#include <tuple>
#include <type_traits>
#include <utility>

namespace async_generator {
namespace detail {

// A body with its call's arguments bound; the generator calls it once, with its context.
template <class Y, class S, class R, class Body, class... Args>
class bound_body {
 public:
  bound_body(Body body, std::tuple<Args...> args) : body_(std::move(body)), args_(std::move(args)) {}
  R operator()(context<Y, S> co) { return call(co, std::index_sequence_for<Args...>()); }

 private:
  template <std::size_t... I>
  R call(context<Y, S> co, std::index_sequence<I...>) {
    return body_(co, std::move(std::get<I>(args_))...);
  }
  Body body_;
  std::tuple<Args...> args_;
};

}  // namespace detail

/// A generator function: `f(ex, args...)` makes a generator running `body(co, args...)` on `ex`.
template <class Y, class S, class R, class Body>
class generator_function {
 public:
  using generator_type = async_generator<Y, S, R>;

  explicit generator_function(Body body, stack_options stack = {}) : body_(std::move(body)), stack_(stack) {}

  /// Makes a generator on `ex` (an executor or an execution context); the arguments are copied or
  /// moved into it, as Python binds them when the generator function is called.
  template <class ExecutorOrContext, class... Args>
  generator_type operator()(ExecutorOrContext&& ex, Args&&... args) const {
    using bound = detail::bound_body<Y, S, R, Body, typename std::decay<Args>::type...>;
    return make_async_generator<Y, S, R>(std::forward<ExecutorOrContext>(ex),
                                         bound(body_, std::make_tuple(std::forward<Args>(args)...)), stack_);
  }

  /// The body (Python's `__wrapped__`).
  const Body& wrapped() const noexcept { return body_; }

 private:
  Body body_;
  stack_options stack_;
};

/// Turns `body` into a generator function yielding `Y`, sent `S`, returning `R` (Python's
/// `@async_generator`).
template <class Y, class S = void, class R = void, class Body>
generator_function<Y, S, R, typename std::decay<Body>::type> make_generator_function(Body&& body,
                                                                                     stack_options stack = {}) {
  return generator_function<Y, S, R, typename std::decay<Body>::type>(std::forward<Body>(body), stack);
}

}  // namespace async_generator

#endif
