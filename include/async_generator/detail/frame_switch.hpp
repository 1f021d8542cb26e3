// The switch between a generator's fiber and whoever waits on it: the hot path, inline.
#ifndef ASYNC_GENERATOR_DETAIL_FRAME_SWITCH_HPP
#define ASYNC_GENERATOR_DETAIL_FRAME_SWITCH_HPP

#include <async_generator/compat/config.hpp>
#include <async_generator/compat/fiber.hpp>
#include <async_generator/detail/frame.hpp>
#include <async_generator/detail/stack_pool.hpp>
#include <async_generator/errors.hpp>

namespace async_generator {
namespace detail {

// The stack (native, or a fiber that is not a generator) that resumed a chain of generator fibers.
// When the chain can go no further, control comes back here with what is left to do on this stack.
struct native_stack : compat::switch_slot {
  enum class event : unsigned char {
    handed_back,    // the chain yielded or ended to a waiter that reads its own slots
    complete,       // ... to a handler: `completing` is to be completed
    await_pending,  // a body waits in an await, whose operation `start_await` starts
  };
  // What to run next on this stack: the frame whose await completed at once, or null.
  frame_base* after_switch() {
    switch (what) {
      case event::complete:
        done->release_claims();
        completing->complete();
        return nullptr;
      case event::await_pending:
        return start_await(await_arg);
      default:
        done->release_claims();
        return nullptr;
    }
  }

  // Set by whoever switches back here (hand_back, suspend_await), and read only then.
  event what;
  frame_base* done;  // handed_back, complete: the generator that handed back, which holds the claims
  waiter* completing;
  frame_base* (*start_await)(void*);
  void* await_arg;
};

ASYNC_GENERATOR_ALWAYS_INLINE frame_base* frame_base::begin_inline(waiter& w, std::exception_ptr&& thrown) {
  frame_base* holder;
  if (w.kind != op_kind::anext || !claim(this, holder)) return begin(w, std::move(thrown));
  if (state_ != frame_state::suspended || delegate_ != nullptr) return begin_claimed(w, std::move(thrown));
  mode_ = resume_mode::next;
  kind_ = op_kind::anext;
  state_ = frame_state::running;
  return install(w, this);
}

ASYNC_GENERATOR_ALWAYS_INLINE frame_base* frame_base::install(waiter& w, frame_base* target) noexcept {
  w.entry = this;
  w.holder = target;
  target->waiter_ = &w;
  return target;
}

ASYNC_GENERATOR_ALWAYS_INLINE frame_ptr<frame_base> frame_base::run_on_native_stack(waiter& w, std::exception_ptr&& thrown,
                                                                                    native_stack& ns) {
  frame_base* target = begin_inline(w, std::move(thrown));
  if (target == nullptr) return frame_ptr<frame_base>();
  frame_pin pin(*this);
  if (!target->run_until_suspended(ns)) return pin.hold();
  pin.finish(*ns.done);
  return frame_ptr<frame_base>();
}

ASYNC_GENERATOR_ALWAYS_INLINE bool frame_base::run_until_suspended(native_stack& ns) {
  prepare_thread_for_overflow_reports();
  bottom_ = &ns;
  compat::switch_to(ns, self_);
  return ns.what != native_stack::event::await_pending;
}

ASYNC_GENERATOR_ALWAYS_INLINE void frame_base::resume_from(frame_base& consumer) {
  bottom_ = consumer.bottom_;
  consumer.check_stack_canary();
  compat::switch_to(consumer.self_, self_);
  if (consumer.unwinding_) {
    // The consumer is being destroyed while this generator still works for it: it must not come
    // back to a stack that is gone.
    if (waiting_consumer() == &consumer) waiter_ = nullptr;
    consumer.unwind();
  }
}

// The operation is done (the body yields or ends): control goes to whoever waits.
ASYNC_GENERATOR_ALWAYS_INLINE compat::switch_slot& frame_base::hand_back() {
  waiter* w = waiter_;
  waiter_ = nullptr;
  native_stack& ns = *bottom_;
  if (w == nullptr) {  // its consumer was unwound
    ns.what = native_stack::event::handed_back;
    ns.done = this;
    return ns;
  }
  if (w->entry != this) w->entry->state_ = frame_state::suspended;  // it delegated the operation here
  if (w->target == waiter_target::fiber) {
    w->consumer->bottom_ = &ns;
    return w->consumer->self_;
  }
  if (w->target == waiter_target::handler) {
    ns.what = native_stack::event::complete;
    ns.completing = w;
  } else {
    ns.what = native_stack::event::handed_back;
  }
  ns.done = this;
  return ns;
}

ASYNC_GENERATOR_ALWAYS_INLINE frame_base& frame_base::running_body(const body_identity& id, const char* what) {
  char probe = 0;
  const char* here = &probe;
  // On a stack within those bounds, which holds this generator's serial: the generator is alive.
  if (here < id.stack_lo || here >= id.stack_hi || stack_owner_serial(id.stack_hi) != id.serial) refuse_context(what);
  frame_base& f = *id.frame;
  if (f.state_ != frame_state::running || f.awaiting_) refuse_context(what);
  return f;
}

// A body yielding (by yield_, or by yield_from_ passing on its delegate's first value) while it is
// being closed (the close fails with "ignored GeneratorExit") or unwound.
ASYNC_GENERATOR_ALWAYS_INLINE void frame_base::check_yield_allowed() {
  if (mode_ == resume_mode::close_sync || kind_ == op_kind::aclose || unwinding_) yield_while_closing();
}

inline void* frame_base::value_slot() const noexcept { return waiter_ != nullptr ? waiter_->value : nullptr; }

inline void* frame_base::sent_slot() const noexcept {
  return mode_ == resume_mode::send && waiter_ != nullptr ? waiter_->sent : nullptr;
}

inline cancel_state* frame_base::cancel() const noexcept { return waiter_ != nullptr ? waiter_->cancel : nullptr; }

ASYNC_GENERATOR_ALWAYS_INLINE void frame_base::suspend_yield() {
  check_yield_allowed();
  state_ = frame_state::suspended;
  check_stack_canary();
  compat::switch_to(self_, hand_back());
  on_yield_resumed();
}

ASYNC_GENERATOR_ALWAYS_INLINE void frame_base::on_yield_resumed() {
  if (unwinding_) unwind();
  switch (mode_) {
    case resume_mode::throw_in:
      raise_thrown();
    case resume_mode::close:
    case resume_mode::close_sync:
      throw generator_exit();
    default:
      return;
  }
}

}  // namespace detail
}  // namespace async_generator

#endif
