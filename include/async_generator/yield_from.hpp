// yield_from_: delegation to another async iterator (PEP 380's `yield from`, with aclose for close).
#ifndef ASYNC_GENERATOR_YIELD_FROM_HPP
#define ASYNC_GENERATOR_YIELD_FROM_HPP

#include <async_generator/compat/fiber.hpp>
#include <async_generator/async_generator.hpp>
#include <async_generator/context.hpp>
#include <async_generator/detail/delegation.hpp>
#include <async_generator/detail/traits.hpp>
#include <async_generator/errors.hpp>
#include <async_generator/yield.hpp>

#include <exception>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace async_generator {
namespace detail {

struct delegate_return {};
template <class D, class = void>
struct return_type_of {
  using type = void;
};
template <class D>
struct return_type_of<D, void_t<typename D::return_type>> {
  using type = typename D::return_type;
};

// The value a delegate's end of iteration carries (value-initialised when it carries none).
template <class R>
struct returned {
  static R from(const stop_async_iteration& stop) {
    if (!stop.has_value()) return R();
    try {
      return stop.value<R>();
    } catch (const std::bad_cast&) {
      throw type_error(std::string("yield_from_: the delegate returned a value that is not a ") + typeid(R).name());
    }
  }
};
template <>
struct returned<void> {
  static void from(const stop_async_iteration&) {}
};

// A delegate whose anext and asend the delegating generator may hand over directly: this library's
// generator, yielding and sent the same types.
template <class D, class Y, class S>
struct is_chainable : std::false_type {};
template <class Y, class S, class R>
struct is_chainable<async_generator<Y, S, R>, Y, S> : std::true_type {};

template <class D>
frame_base* chainable_frame(D&, std::false_type) noexcept {
  return nullptr;
}
template <class D>
frame_base* chainable_frame(D& d, std::true_type) noexcept {
  return d.frame();
}

// One delegation: PEP 380's loop, each step a call on the delegate through the body's context.
// With a chainable delegate on the same executor, the body suspends delegating: the delegate's
// anext and asend then bypass it, and it runs again only when the delegate ends or for athrow/aclose.
template <class Y, class S, class D, class R>
class delegation_loop {
 public:
  using token = context<Y, S>;
  using value_type = typename std::decay<decltype(std::declval<D&>().anext(std::declval<const token&>()))>::type;
  static_assert(!std::is_void<value_type>::value, "yield_from_ needs a delegate that yields values");

  delegation_loop(const token& co, D& d) : co_(co), d_(d) {}

  R run() {
    if (!call([&] { return d_.anext(co_); })) return returned<R>::from(*stop_);
    frame_base* delegate = chainable_frame(d_, is_chainable<D, Y, S>());
    if (delegate != nullptr && !delegate->has_delegator() && delegate->shares_executor_with(co_.frame())) {
      chained_ = delegate;
    }
    while (step()) {
    }
    return returned<R>::from(*stop_);
  }

 private:
  // Yields the delegate's value and passes on whatever resumes this body; false when the delegate ended.
  bool step() {
    std::exception_ptr thrown;
    compat::optional<value_t<S>> sent;
    bool delegate_ended = false;
    bool closing = false;
    try {
      delegate_ended = !yield_value(sent, std::is_void<S>());
    } catch (const generator_exit&) {
      closing = true;  // the delegate's aclose awaits: not inside this catch block
      thrown = std::current_exception();
    } catch (const compat::forced_unwind&) {
      throw;
    } catch (const unwind_signal&) {
      throw;
    } catch (...) {
      thrown = std::current_exception();
    }
    if (closing) {
      close(has_aclose<D, token>());
      std::rethrow_exception(thrown);
    }
    if (thrown) return throw_in(std::move(thrown), has_athrow<D, token>());
    if (delegate_ended) {
      std::exception_ptr outcome = co_.frame().take_delegate_outcome();
      return call([&]() -> value_type { std::rethrow_exception(outcome); });
    }
    if (!sent) return call([&] { return d_.anext(co_); });
    return send(std::move(*sent), has_asend<D, token, S>());
  }

  // Returns false when the delegate ended while this body was suspended delegating.
  bool yield_value(compat::optional<value_t<S>>&, std::true_type) {
    return delegating() ? yield_chained() : (yield_(co_, std::move(*value_)), true);
  }
  bool yield_value(compat::optional<value_t<S>>& sent, std::false_type) {
    if (delegating()) {
      if (!yield_chained()) return false;
      sent = sent_value<S>::take(co_.frame());
      return true;
    }
    sent = yield_(co_, std::move(*value_));
    return true;
  }
  // Whether this yield suspends delegating to the chained delegate, claimed for it; not when an
  // operation of another thread has the delegate now (this body then yields as yield_ does).
  bool delegating() { return chained_ != nullptr && co_.running_frame("yield_").claim_delegate(*chained_); }
  bool yield_chained() {
    frame_base& f = co_.running_frame("yield_");
    if (void* slot = f.value_slot()) *static_cast<value_t<Y>*>(slot) = std::move(*value_);
    return !f.suspend_delegating(*chained_);
  }

  template <class V>
  bool send(V&& v, std::true_type) {
    return call([&] { return d_.asend(std::forward<V>(v), co_); });
  }
  template <class V>
  bool send(V&&, std::false_type) {
    throw type_error("yield_from_: a value was sent and the delegate has no asend");
  }

  bool throw_in(std::exception_ptr e, std::true_type) {
    return call([&] { return d_.athrow(e, co_); });
  }
  bool throw_in(std::exception_ptr e, std::false_type) { std::rethrow_exception(e); }

  void close(std::true_type) { d_.aclose(co_); }
  void close(std::false_type) {}

  template <class Op>
  bool call(Op&& op) {
    try {
      value_.emplace(op());
      return true;
    } catch (const stop_async_iteration& stop) {
      stop_.emplace(stop);
      return false;
    }
  }

  const token& co_;
  D& d_;
  frame_base* chained_ = nullptr;
  compat::optional<value_type> value_;
  compat::optional<stop_async_iteration> stop_;
};

}  // namespace detail

/// Python's `await yield_from_(delegate)`: yields everything `delegate` yields, forwards to it what
/// this generator is sent (`asend`), thrown (`athrow`, when the delegate has one) and closed with
/// (`aclose`, when it has one, before `generator_exit` is raised here), and returns the value its
/// end of iteration carries.
///
/// `delegate` is this library's generator or any async iterator offering `anext(token)` (and
/// optionally `asend(value, token)`, `athrow(exception_ptr, token)`, `aclose(token)`) with
/// completion signatures `void(std::exception_ptr[, T])`. The result is `R`: by default the
/// delegate's `return_type` (void when it has none).
template <class R = detail::delegate_return, class Y, class S, class Delegate>
auto yield_from_(const context<Y, S>& co, Delegate&& delegate) {
  using delegate_type = typename std::remove_reference<Delegate>::type;
  using result_type = typename std::conditional<std::is_same<R, detail::delegate_return>::value,
                                                typename detail::return_type_of<delegate_type>::type, R>::type;
  detail::awaiting_scope scope(co.running_frame("yield_"), &delegate, typeid(delegate_type));
  return detail::delegation_loop<Y, S, delegate_type, result_type>(co, delegate).run();
}

}  // namespace async_generator

#endif
