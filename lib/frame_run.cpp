// How control moves between a generator's fiber and the stacks that run it: runs from a native
// stack, delegation, awaits, and the body's entry and end.
#include <async_generator/detail/frame_switch.hpp>
#include <async_generator/errors.hpp>

#include <thread>

namespace async_generator {
namespace detail {

void frame_base::run_chain(frame_base* f) {
  prepare_thread_for_overflow_reports();
  native_stack ns;
  while (f != nullptr) {
    f->bottom_ = &ns;
    compat::switch_to(ns, f->self_);
    f = ns.after_switch();
  }
}

frame_base* frame_base::chain_root() noexcept {
  frame_base* f = this;
  for (;;) {
    frame_base* top = f;
    while (frame_base* up = top->delegator_.load(std::memory_order_relaxed)) top = up;
    frame_base* consumer = f->waiting_consumer();
    if (consumer == nullptr) return top;
    f = consumer;
  }
}

void frame_base::start_pending_await(const native_stack& ns) {
  if (frame_base* f = ns.start_await(ns.await_arg)) run_chain(f);
}

void frame_base::hand_over(waiter& from, waiter& to) noexcept {
  to.entry = from.entry;
  to.holder = from.holder;
  from.holder->waiter_ = &to;
}

void frame_base::start_op(waiter* op, std::exception_ptr thrown) {
  frame_base* target;
  frame_base* holder;
  if (op->kind == op_kind::athrow && !thrown) {
    target = begin(*op, std::move(thrown));  // refused in every state
  } else if (!claim(this, holder)) {
    target = refuse_running(*op);
  } else {
    if (op->cancel != nullptr && state_ != frame_state::finished && op->cancel->cancelled_before_start(op->cancel_serial)) {
      // asyncio throws the CancelledError of an awaitable cancelled before it ran into the generator
      // at its yield (an unstarted one is finished without running): an athrow.
      thrown = std::make_exception_ptr(system_error(asio::error::operation_aborted));
      op->kind = op_kind::athrow;
    }
    target = begin_claimed(*op, std::move(thrown));
  }
  if (target == nullptr) {
    op->complete();
    return;
  }
  run_chain(target);
}

bool frame_base::suspend_delegating(frame_base& delegate) {
  try {
    check_yield_allowed();
  } catch (...) {
    delegate.claim_.store(nullptr, std::memory_order_release);
    throw;
  }
  delegate_ = &delegate;
  delegate.delegator_.store(this, std::memory_order_relaxed);
  frame_base* leaf = delegate.delegate_ != nullptr ? delegate.leaf_.load(std::memory_order_relaxed) : &delegate;
  leaf_.store(leaf, std::memory_order_release);
  set_chain_leaf(leaf);
  delegate.claim_.store(nullptr, std::memory_order_release);  // claimed by claim_delegate
  state_ = frame_state::suspended;
  check_stack_canary();
  compat::switch_to(self_, hand_back());
  delegate_->delegator_.store(nullptr, std::memory_order_relaxed);
  delegate_ = nullptr;
  leaf_.store(nullptr, std::memory_order_relaxed);
  set_chain_leaf(this);
  if (delegate_ended_) {
    delegate_ended_ = false;
    return true;
  }
  on_yield_resumed();
  return false;
}

// The delegate of a yield_from_ ended while running an operation forwarded to it: the operation
// goes on in the delegating body, which gets the delegate's outcome.
compat::switch_slot& frame_base::hand_to_delegator(std::exception_ptr outcome) {
  frame_base& d = *delegator_.load(std::memory_order_relaxed);
  // The operation goes on in `d`, which it claims. Another thread's operation on `d` may have it
  // for a moment: it finds this one running through `d`, and gives it up at once.
  frame_base* const entry = claim_.load(std::memory_order_relaxed);
  frame_base* holder;
  if (&d != entry) {
    while (!d.claim(entry, holder)) std::this_thread::yield();
  }
  claim_.store(nullptr, std::memory_order_release);
  d.delegate_outcome_ = std::move(outcome);
  d.delegate_ended_ = true;
  d.state_ = frame_state::running;
  d.kind_ = kind_;
  d.mode_ = resume_mode::next;
  d.bottom_ = bottom_;
  d.waiter_ = waiter_;
  if (waiter_ != nullptr) waiter_->holder = &d;
  waiter_ = nullptr;
  return d.self_;
}

void frame_base::suspend_await(frame_base* (*start)(void*), void* arg) {
  awaiting_ = true;
  bottom_->what = native_stack::event::await_pending;
  bottom_->start_await = start;
  bottom_->await_arg = arg;
  check_stack_canary();
  compat::switch_to(self_, *bottom_);
  awaiting_ = false;
  if (unwinding_) unwind();
}

compat::fiber frame_base::run(compat::fiber&& caller) {
  compat::arrive(self_, std::move(caller));
  body_end end = run_body();
  check_stack_canary();
  std::exception_ptr error = std::move(end.error);
  const bool exit_escaped = end.generator_exit_escaped;
  const bool unwound = end.unwound;
  if (end.stop_escaped) error = std::make_exception_ptr(runtime_error(errors::raised_stop_async_iteration, error));
  if (waiter_ != nullptr && waiter_->entry != this && !unwinding_ && delegator_.load(std::memory_order_relaxed) != nullptr) {
    state_ = frame_state::finished;
    compat::switch_slot& next = hand_to_delegator(error ? std::move(error) : make_stop());
    compat::final_switch_to(next);
    return std::move(next.cont);
  }
  outcome(std::move(error), exit_escaped, unwinding_ && !unwound);
  compat::switch_slot& next = hand_back();
  compat::final_switch_to(next);
  return std::move(next.cont);
}

}  // namespace detail
}  // namespace async_generator
