// yield_: hand a value to the generator's consumer and wait to be resumed (Python's `await yield_(v)`).
#ifndef ASYNC_GENERATOR_YIELD_HPP
#define ASYNC_GENERATOR_YIELD_HPP

#include <async_generator/compat/config.hpp>
#include <async_generator/context.hpp>
#include <async_generator/detail/frame_switch.hpp>

#include <type_traits>
#include <utility>

namespace async_generator {
namespace detail {

template <class S>
struct sent_value {
  using type = compat::optional<S>;
  static type take(frame_base& f) {
    void* sent = f.sent_slot();
    if (sent == nullptr) return type();
    return type(std::move(*static_cast<S*>(sent)));
  }
};
template <>
struct sent_value<void> {
  using type = void;
  static void take(frame_base&) {}
};

template <class Y, class S, class V>
ASYNC_GENERATOR_ALWAYS_INLINE typename sent_value<S>::type yield_value(const context<Y, S>& co, V&& value) {
  frame_base& f = co.running_frame("yield_");
  if (void* slot = f.value_slot()) *static_cast<value_t<Y>*>(slot) = std::forward<V>(value);
  f.suspend_yield();
  return sent_value<S>::take(f);
}

}  // namespace detail

/// Suspends the body and hands `value` to the operation that resumed it (`anext`, `asend` or
/// `athrow`). Returns what the next operation brings: nothing for `anext` (an empty optional, or
/// `void` when the generator is sent nothing), the value of `asend`. Raises, at this point, the
/// exception of `athrow` and `generator_exit` for `aclose`.
template <class Y, class S, class V>
ASYNC_GENERATOR_ALWAYS_INLINE typename detail::sent_value<S>::type yield_(const context<Y, S>& co, V&& value) {
  static_assert(!std::is_void<Y>::value, "this generator yields nothing: call yield_(co) without a value");
  return detail::yield_value(co, std::forward<V>(value));
}

/// Yields without a value (Python's `await yield_()`): a value-initialised `Y`, or nothing when `Y`
/// is `void`.
template <class Y, class S>
typename detail::sent_value<S>::type yield_(const context<Y, S>& co) {
  return detail::yield_value(co, detail::value_t<Y>());
}

}  // namespace async_generator

#endif
