// A generator body consuming another generator on the same executor: its fiber switches straight
// into the other's and back, with no handler and no executor hop.
#ifndef ASYNC_GENERATOR_DETAIL_DIRECT_OP_HPP
#define ASYNC_GENERATOR_DETAIL_DIRECT_OP_HPP

#include <async_generator/compat/config.hpp>
#include <async_generator/detail/frame_switch.hpp>

#include <exception>
#include <type_traits>
#include <utility>

namespace async_generator {
namespace detail {

// The operation `kind` on `gen`, from the body of `consumer` (running: context::running_frame);
// returns what it yields (for anext, asend and athrow), raises how it failed.
template <class Y, class S, bool WithValue>
ASYNC_GENERATOR_ALWAYS_INLINE typename std::conditional<WithValue, Y, void>::type run_direct(
    frame_base& gen, frame_base& consumer, op_kind kind, value_t<S>& sent, std::exception_ptr&& thrown) {
  value_t<Y> value{};
  waiter w(kind, waiter_target::fiber, WithValue ? &value : nullptr, &sent, consumer.cancel());
  w.consumer = &consumer;
  if (frame_base* target = gen.begin_inline(w, std::move(thrown))) {
    frame_pin pin(gen);
    target->resume_from(consumer);
    pin.finish(*w.holder);
  }
  if (w.error) std::rethrow_exception(w.error);
  return static_cast<typename std::conditional<WithValue, Y, void>::type>(std::move(value));
}

}  // namespace detail
}  // namespace async_generator

#endif
