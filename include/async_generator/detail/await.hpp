// Awaiting any Asio operation from a generator body: the handler that resumes the body, and what
// the await returns or raises.
#ifndef ASYNC_GENERATOR_DETAIL_AWAIT_HPP
#define ASYNC_GENERATOR_DETAIL_AWAIT_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/compat/config.hpp>
#include <async_generator/compat/cancellation.hpp>
#include <async_generator/detail/frame_switch.hpp>
#include <async_generator/detail/guarded_executor.hpp>

#include <atomic>
#include <exception>
#include <tuple>
#include <type_traits>
#include <utility>

namespace async_generator {
namespace detail {

// What an await returns for the completion values `Ts` (the error, if any, already taken off).
template <class... Ts>
struct await_values {
  using type = std::tuple<Ts...>;
  template <std::size_t Offset, class Tuple, std::size_t... I>
  static type take(Tuple&& t, std::index_sequence<I...>) {
    return type(std::move(std::get<Offset + I>(t))...);
  }
};
template <>
struct await_values<> {
  using type = void;
  template <std::size_t Offset, class Tuple, std::size_t... I>
  static void take(Tuple&&, std::index_sequence<I...>) {}
};
template <class T>
struct await_values<T> {
  using type = T;
  template <std::size_t Offset, class Tuple, std::size_t... I>
  static type take(Tuple&& t, std::index_sequence<I...>) {
    return std::move(std::get<Offset>(t));
  }
};

// How the first completion argument is treated: an error_code is thrown (or stored by co[ec]), an
// exception_ptr is rethrown, anything else is a value.
template <class... Args>
struct await_signature {
  using values = await_values<Args...>;
  static constexpr std::size_t offset = 0;
  template <class Tuple, class Token>
  static void check(Tuple&, const Token&) {}
};
template <class... Ts>
struct await_signature<error_code, Ts...> {
  using values = await_values<Ts...>;
  static constexpr std::size_t offset = 1;
  template <class Tuple, class Token>
  static void check(Tuple& t, const Token& co) {
    const error_code& ec = std::get<0>(t);
    if (error_code* slot = co.error_slot()) {
      *slot = ec;
    } else if (ec) {
      throw system_error(ec);
    }
  }
};
template <class... Ts>
struct await_signature<std::exception_ptr, Ts...> {
  using values = await_values<Ts...>;
  static constexpr std::size_t offset = 1;
  template <class Tuple, class Token>
  static void check(Tuple& t, const Token&) {
    if (std::get<0>(t)) std::rethrow_exception(std::get<0>(t));
  }
};

template <class... Args>
struct await_state {
  // 0: the operation is being started; 1: it completed; 2: the body waits for it. Whoever of the
  // starter and the handler comes second resumes the body, so a completion on another thread, or
  // inside the initiating function, never races the suspension.
  std::atomic<int> phase{0};
  compat::optional<std::tuple<Args...>> result;
  std::exception_ptr start_error;
};

template <class... Args>
class await_handler {
 public:
  // The generator's, guarded: the awaited operation may outlive the generator's context.
  using executor_type = guarded_executor;

  await_handler(frame_base* f, await_state<Args...>* state, unsigned seq) noexcept
      : frame_(f), root_(outer_root(f)), state_(state), seq_(seq), cancel_(f->cancel()) {}

  executor_type get_executor() const noexcept {
    return guarded_executor(frame_->executor(), frame_->registry().get(), frame_->thread_key());
  }

  // Connected while the generator's operation can be cancelled: a request reaches this await.
  using cancellation_slot_type = compat::cancellation_slot;
  cancellation_slot_type get_cancellation_slot() const noexcept {
    return cancel_ != nullptr ? cancel_->slot() : cancellation_slot_type();
  }

  template <class... Vs>
  void operator()(Vs&&... vs) {
    frame_base* f = frame_.get();
    if (!f->awaiting(seq_)) return;  // the body was unwound meanwhile
    if (cancel_ != nullptr) cancel_->await_finished();
    state_->result.emplace(std::forward<Vs>(vs)...);
    if (state_->phase.exchange(1, std::memory_order_acq_rel) == 2) frame_base::run_chain(f);
  }

 private:
  static frame_base* outer_root(frame_base* f) noexcept {
    frame_base* root = f->chain_root();
    return root != f ? root : nullptr;
  }

  frame_ptr<frame_base> frame_;
  frame_ptr<frame_base> root_;  // the chain's outermost generator, whose consumer waits on us all
  await_state<Args...>* state_;
  unsigned seq_;
  cancel_state* cancel_;
};

template <class Initiation, class ArgsTuple, class... Args>
struct await_start {
  typename std::remove_reference<Initiation>::type* init;
  ArgsTuple* args;
  frame_base* frame;
  await_state<Args...>* state;
  unsigned seq;

  template <std::size_t... I>
  void call(std::index_sequence<I...>) {
    static_cast<Initiation&&>(*init)(await_handler<Args...>(frame, state, seq), std::get<I>(std::move(*args))...);
  }

  static frame_base* start(void* p) {
    await_start& d = *static_cast<await_start*>(p);
    frame_base* f = d.frame;
    await_state<Args...>* state = d.state;
    cancel_state* cancel = f->cancel();
    if (cancel != nullptr) cancel->await_starting();
    try {
      d.call(std::make_index_sequence<std::tuple_size<ArgsTuple>::value>());
    } catch (...) {
      if (cancel != nullptr) cancel->await_finished();
      state->start_error = std::current_exception();
      return f;
    }
    // A request that came while the body ran reaches the operation now that its handler is in place.
    if (cancel != nullptr) cancel->await_started();
    return state->phase.exchange(2, std::memory_order_acq_rel) == 1 ? f : nullptr;
  }
};

template <class... Args, class Initiation, class Token, class... InitArgs>
typename await_signature<Args...>::values::type await_any(Initiation&& init, const Token& co, InitArgs&&... iargs) {
  using signature = await_signature<Args...>;
  frame_base& f = co.running_frame("await");
  const unsigned seq = f.prepare_await();
  await_state<Args...> state;
  auto args = std::forward_as_tuple(std::forward<InitArgs>(iargs)...);
  using start_type = await_start<Initiation, decltype(args), Args...>;
  start_type start{&init, &args, &f, &state, seq};
  f.suspend_await(&start_type::start, &start);
  if (state.start_error) std::rethrow_exception(state.start_error);
  signature::check(*state.result, co);
  return signature::values::template take<signature::offset>(std::move(*state.result),
                                                              std::make_index_sequence<sizeof...(Args) - signature::offset>());
}

// This library's own operations offer a direct path: fibers switch without an executor round trip.
template <class T, class = void>
struct is_direct_initiation : std::false_type {};
template <class T>
struct is_direct_initiation<T, typename T::direct_initiation> : std::true_type {};

template <class... Args, class Initiation, class Token, class... InitArgs>
typename await_signature<Args...>::values::type await_dispatch(std::false_type, Initiation&& init, const Token& co,
                                                               InitArgs&&... args) {
  return await_any<Args...>(std::forward<Initiation>(init), co, std::forward<InitArgs>(args)...);
}
template <class... Args, class Initiation, class Token, class... InitArgs>
ASYNC_GENERATOR_ALWAYS_INLINE typename await_signature<Args...>::values::type await_dispatch(std::true_type, Initiation&& init, const Token& co,
                                                               InitArgs&&... args) {
  return init.direct(co, std::forward<InitArgs>(args)...);
}

}  // namespace detail
}  // namespace async_generator

#endif
