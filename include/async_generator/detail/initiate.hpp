// How a generator's operation starts, chosen by its token: a generator body's context (direct_op),
// an asio::spawn coroutine (spawn_op), or any other token through async_initiate (handler_op).
#ifndef ASYNC_GENERATOR_DETAIL_INITIATE_HPP
#define ASYNC_GENERATOR_DETAIL_INITIATE_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/compat/config.hpp>
#include <async_generator/context.hpp>
#include <async_generator/detail/direct_op.hpp>
#include <async_generator/detail/executor.hpp>
#include <async_generator/detail/frame.hpp>
#include <async_generator/detail/handler_op.hpp>
#include <async_generator/detail/spawn_op.hpp>
#include <async_generator/errors.hpp>

#include <exception>
#include <string>
#include <type_traits>
#include <utility>

namespace async_generator {
namespace detail {

// anext, asend and athrow complete with the error and the yielded value; aclose (and an operation
// of a generator yielding void) with the error alone.
template <class Y, bool WithValue>
struct op_signature {
  using type = void(std::exception_ptr, Y);
};
template <>
struct op_signature<void, true> {
  using type = void(std::exception_ptr);
};
template <class Y>
struct op_signature<Y, false> {
  using type = void(std::exception_ptr);
};

// An operation on a generator whose execution context was destroyed (it had started, so the
// context's service knows it) cannot run, nor complete on that context: refused at once.
inline void check_context_alive(const frame_base& frame, op_kind kind) {
  if (!frame.context_gone()) return;
  static const char* const names[] = {"anext", "asend", "athrow", "aclose"};
  throw misuse_error(std::string(names[static_cast<int>(kind)]) + ": the generator's execution context was destroyed");
}

// anext/asend/athrow (WithValue) and aclose.
template <class Y, class S, bool WithValue>
class op_initiation {
 public:
  using direct_initiation = void;
  using from_yield_initiation = void;
  using signature = typename op_signature<Y, WithValue>::type;
  using direct_result = typename std::conditional<WithValue, Y, void>::type;

  explicit op_initiation(frame_base* frame) noexcept : frame_(frame) {}

  // The generator's executor, for the adapters that run something beside the operation (Asio's
  // cancel_after makes its timer on it). An empty generator has none: the system executor.
  using executor_type = asio::any_io_executor;
  executor_type get_executor() const noexcept {
    return frame_ != nullptr ? frame_->executor() : executor_type(asio::system_executor());
  }

  // A completion handler (async_initiate's path).
  template <class Handler>
  void operator()(Handler&& handler, op_kind kind, value_t<S> sent, std::exception_ptr thrown) const {
    using handler_type = typename std::decay<Handler>::type;
    if (frame_ == nullptr) {
      auto ex = compat::executor_of_handler(handler);
      post_completion(ex, op_completion<handler_type, Y, WithValue>{std::forward<Handler>(handler),
                                                                    std::make_exception_ptr(empty_generator_error()),
                                                                    value_t<Y>()});
      return;
    }
    check_context_alive(*frame_, kind);
    if (running_on_executor(*frame_)) {
      run_handler_here<Y, S, WithValue>(*frame_, std::forward<Handler>(handler), kind, std::move(sent), std::move(thrown));
    } else {
      post_handler_op<Y, S, WithValue>(*frame_, std::forward<Handler>(handler), kind, std::move(sent), std::move(thrown));
    }
  }

  // A generator body: when both run on the same executor, the consumer's fiber switches straight
  // into this generator's; otherwise the body awaits the operation as any Asio operation.
  template <class Token>
  ASYNC_GENERATOR_ALWAYS_INLINE direct_result direct(const Token& co, op_kind kind, value_t<S> sent, std::exception_ptr thrown) const {
    if (frame_ == nullptr) throw empty_generator_error();
    check_context_alive(*frame_, kind);
    frame_base& consumer = co.running_frame("await");
    if (!frame_->shares_executor_with(consumer)) {
      return await_via(co, kind, std::move(sent), std::move(thrown), static_cast<signature*>(nullptr));
    }
    return run_direct<Y, S, WithValue>(*frame_, consumer, kind, sent, std::move(thrown));
  }

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
  // An asio::spawn coroutine.
  template <class Executor>
  ASYNC_GENERATOR_ALWAYS_INLINE direct_result from_yield(const asio::basic_yield_context<Executor>& yield, op_kind kind,
                                                         value_t<S> sent, std::exception_ptr thrown) const {
    if (frame_ != nullptr) check_context_alive(*frame_, kind);
    return run_from_yield<Y, S, WithValue, signature>(frame_, *this, yield, kind, std::move(sent), std::move(thrown));
  }
#endif

 private:
  template <class Token, class... Args>
  direct_result await_via(const Token& co, op_kind kind, value_t<S> sent, std::exception_ptr thrown,
                          void (*)(Args...)) const {
    return await_any<Args...>(*this, co, kind, std::move(sent), std::move(thrown));
  }

  frame_base* frame_;
};

template <class T>
struct is_context : std::false_type {};
template <class Y, class S>
struct is_context<context<Y, S>> : std::true_type {};

// Starts a generator operation. A generator body's context takes the direct path without going
// through async_initiate, whose inlining the compiler may refuse: the fiber switch must happen at
// the consumer's own call depth (see ASYNC_GENERATOR_ALWAYS_INLINE).
template <class Signature, class Initiation, class Token, class... Args>
ASYNC_GENERATOR_ALWAYS_INLINE decltype(auto) initiate_on(std::true_type, const Initiation& init, const Token& co,
                                                         Args&&... args) {
  return init.direct(co, std::forward<Args>(args)...);
}
template <class Signature, class Initiation, class Token, class... Args>
ASYNC_GENERATOR_ALWAYS_INLINE decltype(auto) initiate_on(std::false_type, const Initiation& init, Token&& token,
                                                         Args&&... args) {
  return asio::async_initiate<Token, Signature>(init, token, std::forward<Args>(args)...);
}
template <class Signature, class Initiation, class Token, class... Args>
ASYNC_GENERATOR_ALWAYS_INLINE decltype(auto) initiate_op(const Initiation& init, Token&& token, Args&&... args) {
  return initiate_on<Signature>(is_context<typename std::decay<Token>::type>(), init, std::forward<Token>(token),
                                std::forward<Args>(args)...);
}

}  // namespace detail
}  // namespace async_generator

#endif
