// Python's rules for each operation on a generator in each of its states, and for how a body's end
// becomes the operation's outcome.
#include <async_generator/detail/frame_switch.hpp>
#include <async_generator/errors.hpp>
#include <async_generator/unraisable.hpp>

#include <string>

namespace async_generator {
namespace detail {
namespace {

const char* running_message(op_kind kind) noexcept {
  switch (kind) {
    case op_kind::athrow:
      return errors::athrow_running;
    case op_kind::aclose:
      return errors::aclose_running;
    default:
      return errors::anext_running;
  }
}

}  // namespace

bool frame_base::on_running_path(const frame_base* entry) const noexcept {
  for (const frame_base* f = this; f != nullptr; f = f->delegator_.load(std::memory_order_relaxed)) {
    if (f == entry) return true;
  }
  return false;
}

bool frame_base::running() const noexcept {
  if (state_ == frame_state::running) return true;
  if (delegate_ == nullptr) return false;
  // The innermost runs an operation (it is claimed) that runs through this generator.
  const frame_base* entry = leaf_.load(std::memory_order_acquire)->claim_.load(std::memory_order_acquire);
  return entry != nullptr && on_running_path(entry);
}

frame_base* frame_base::refuse_running(waiter& w) {
  w.error = std::make_exception_ptr(runtime_error(running_message(w.kind)));
  return nullptr;
}

frame_base* frame_base::begin(waiter& w, std::exception_ptr thrown) {
  if (w.kind == op_kind::athrow && !thrown) {
    // In every state, as Python's athrow(None): refused, the generator left as it was.
    w.error = std::make_exception_ptr(type_error(errors::athrow_null));
    return nullptr;
  }
  frame_base* holder;
  if (!claim(this, holder)) return refuse_running(w);
  return begin_claimed(w, std::move(thrown));
}

frame_base* frame_base::begin_claimed(waiter& w, std::exception_ptr thrown) {
  frame_base* target;
  try {
    target = apply_rules(w, std::move(thrown));
  } catch (...) {
    claim_.store(nullptr, std::memory_order_release);
    throw;
  }
  if (target == nullptr) claim_.store(nullptr, std::memory_order_release);
  return target;
}

frame_base* frame_base::apply_rules(waiter& w, std::exception_ptr thrown) {
  const op_kind kind = w.kind;
  if (closed_ && state_ == frame_state::suspended && !running()) {
    // Closed once already (it failed: the body yielded). As in CPython (ag_closed): a later aclose
    // is a no-op, a later athrow raises an empty StopAsyncIteration; anext and asend resume it.
    if (kind == op_kind::aclose) return nullptr;
    if (kind == op_kind::athrow) {
      w.error = std::make_exception_ptr(stop_async_iteration());
      return nullptr;
    }
  }
  if (delegate_ != nullptr && state_ == frame_state::suspended) {
    frame_base* leaf = leaf_.load(std::memory_order_acquire);
    frame_base* leaf_entry;
    if (leaf->claim(this, leaf_entry)) {
      if ((kind == op_kind::anext || kind == op_kind::asend) && leaf->state_ == frame_state::suspended) {
        // What this generator's yield_from_ would do, minus the climb down and back up the chain.
        state_ = frame_state::running;
        leaf->mode_ = kind == op_kind::anext ? resume_mode::next : resume_mode::send;
        leaf->kind_ = kind;
        leaf->state_ = frame_state::running;
        return install(w, leaf);
      }
      leaf->claim_.store(nullptr, std::memory_order_release);
    } else if (on_running_path(leaf_entry)) {
      return refuse_running(w);  // the innermost runs an operation started through this generator
    }
    // Anything else (athrow, aclose, a delegate that ended or runs an operation of its own) is this
    // body's to handle.
  }
  switch (state_) {
    case frame_state::running:
      return refuse_running(w);
    case frame_state::finished:
      if (kind == op_kind::anext || kind == op_kind::asend) w.error = std::make_exception_ptr(stop_async_iteration());
      return nullptr;
    case frame_state::created:
      switch (kind) {
        case op_kind::asend:
          w.error = std::make_exception_ptr(type_error(errors::send_to_unstarted));
          return nullptr;
        case op_kind::athrow:
          // Raised where the body would start: PEP 479 applies as if it escaped a running body.
          state_ = frame_state::finished;
          w.error = is_stop(thrown) ? std::make_exception_ptr(runtime_error(errors::raised_stop_async_iteration, thrown))
                                    : std::move(thrown);
          return nullptr;
        case op_kind::aclose:
          state_ = frame_state::finished;
          return nullptr;
        case op_kind::anext:
          break;
      }
      try {
        self_.cont = make_fiber();
      } catch (const stack_exhausted&) {
        // The operation fails with it; the generator stays unstarted.
        w.error = std::current_exception();
        return nullptr;
      }
      mode_ = resume_mode::next;
      break;
    case frame_state::suspended:
      switch (kind) {
        case op_kind::anext:
          mode_ = resume_mode::next;
          break;
        case op_kind::asend:
          mode_ = resume_mode::send;
          break;
        case op_kind::athrow:
          mode_ = resume_mode::throw_in;
          thrown_ = std::move(thrown);
          break;
        case op_kind::aclose:
          mode_ = resume_mode::close;
          closed_ = true;
          break;
      }
      break;
  }
  kind_ = kind;
  state_ = frame_state::running;
  return install(w, this);
}

void frame_base::refuse_context(const char* what) {
  throw misuse_error(std::string(what) + ": the context does not belong to the async generator running on this fiber");
}

void frame_base::yield_while_closing() {
  if (unwinding_) unwind();
  if (mode_ == resume_mode::close_sync) {
    close_error_ = std::make_exception_ptr(runtime_error(errors::ignored_generator_exit));
    unwinding_ = true;
    unwind();
  }
  // Python leaves the generator suspended at the offending yield.
  if (waiter_ != nullptr) waiter_->error = std::make_exception_ptr(runtime_error(errors::ignored_generator_exit));
}

void frame_base::unwind() {
  if (unwind_thrown_ && live_unwind_signals_ == 0) abandon();
  unwind_thrown_ = true;
  throw unwind_signal(live_unwind_signals_);
}

void frame_base::abandon() noexcept {
  // Unwinding it again would come back here: it would never end. It ends now as if it had
  // returned, with its fiber left suspended for good (destroy keeps the frame).
  if (close_error_) report_unraisable_error(std::move(close_error_));
  try {
    close_error_ = std::make_exception_ptr(misuse_error(errors::swallowed_unwind_abandoned));
  } catch (...) {
    close_error_ = std::current_exception();
  }
  abandoned_ = true;
  state_ = frame_state::finished;
  check_stack_canary();
  compat::switch_to(self_, hand_back());
  std::terminate();  // never resumed
}

void frame_base::raise_thrown() {
  std::exception_ptr e = std::move(thrown_);
  thrown_ = nullptr;
  std::rethrow_exception(e);
}

unsigned frame_base::prepare_await() {
  if (unwinding_) unwind();
  for (frame_base* f = this; f != nullptr; f = f->waiting_consumer()) {
    if (f->mode_ == resume_mode::close_sync) {
      // A dropped generator is closed synchronously, and so is whatever its cleanup drives (the
      // delegate of its yield_from_): there is no event loop to wait on.
      if (!f->close_error_) f->close_error_ = std::make_exception_ptr(runtime_error(errors::ignored_generator_exit));
      unwinding_ = true;
      unwind();
    }
  }
  return ++await_seq_;
}

void frame_base::outcome(std::exception_ptr error, bool generator_exit_escaped, bool swallowed_unwind) {
  state_ = frame_state::finished;
  if (unwinding_) {
    if (swallowed_unwind) {
      close_error_ = std::make_exception_ptr(misuse_error(errors::swallowed_unwind_returned));
    }
    return;
  }
  if (mode_ == resume_mode::close_sync) {
    if (error && !generator_exit_escaped) close_error_ = std::move(error);
    return;
  }
  if (waiter_ == nullptr) return;
  if (!error) {
    if (kind_ != op_kind::aclose) waiter_->error = make_stop();
    return;
  }
  if (kind_ == op_kind::aclose && generator_exit_escaped) return;
  waiter_->error = std::move(error);
}

}  // namespace detail
}  // namespace async_generator
