// An asio::spawn coroutine consuming a generator: on the generator's executor the body runs on the
// coroutine's stack, which suspends only if the body waits in an await.
#ifndef ASYNC_GENERATOR_DETAIL_SPAWN_OP_HPP
#define ASYNC_GENERATOR_DETAIL_SPAWN_OP_HPP

#include <async_generator/compat/config.hpp>

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN

#include <async_generator/compat/yield_context.hpp>
#include <async_generator/detail/executor.hpp>
#include <async_generator/detail/frame_switch.hpp>
#include <async_generator/detail/handler_op.hpp>

#include <exception>
#include <type_traits>
#include <utility>

namespace async_generator {
namespace detail {

// Initiates an operation of signature `Signature` on a yield_context.
template <class Signature>
struct yield_initiator;
template <class... Ts>
struct yield_initiator<void(std::exception_ptr, Ts...)> {
  template <class Yield, class Initiation, class... Args>
  static typename compat::yield_outcome<Ts...>::type initiate(const Yield& yield, Initiation&& init, Args&&... args) {
    return compat::initiate_on_yield<Ts...>(std::forward<Initiation>(init), yield, std::forward<Args>(args)...);
  }
};

// The operation `kind` on `gen` (null: an empty generator), started by `init` (the operation's
// initiation, for the handler path) from the coroutine of `yield`.
template <class Y, class S, bool WithValue, class Signature, class Initiation, class Executor>
ASYNC_GENERATOR_ALWAYS_INLINE typename std::conditional<WithValue, Y, void>::type run_from_yield(
    frame_base* gen, const Initiation& init, const asio::basic_yield_context<Executor>& yield, op_kind kind,
    value_t<S> sent, std::exception_ptr&& thrown) {
  using on_yield = yield_initiator<Signature>;
  if (gen == nullptr || !running_on_executor(*gen)) {
    return on_yield::initiate(yield, init, kind, std::move(sent), std::move(thrown));
  }
  value_t<Y> value{};
  // The coroutine's cancellation slot is only known if the body awaits: until then, its awaits
  // are ready to be cancelled.
  waiter w(kind, waiter_target::native, WithValue ? &value : nullptr, &sent, &gen->own_cancel_state());
  native_stack ns;
  if (frame_ptr<frame_base> held = gen->run_on_native_stack(w, std::move(thrown), ns)) {
    return on_yield::initiate(yield, pending_await_initiation<Y, S, WithValue>{&ns, &w});
  }
  if (w.error) std::rethrow_exception(w.error);
  return static_cast<typename std::conditional<WithValue, Y, void>::type>(std::move(value));
}

}  // namespace detail
}  // namespace async_generator

#endif
#endif
