#include <async_generator/compat/asio.hpp>
#include <async_generator/asyncgen_service.hpp>
#include <async_generator/detail/frame.hpp>
#include <async_generator/unraisable.hpp>

#include "print_report.hpp"

#include <cstddef>
#include <string>

namespace async_generator {
namespace detail {
namespace {

// The service that gives each execution context its registry, and tells it when the context goes.
class asyncgen_registry final : public asio::execution_context::service {
 public:
  static asio::execution_context::id id;
  explicit asyncgen_registry(asio::execution_context& context)
      : asio::execution_context::service(context),
        state(std::make_shared<registry_state>(compat::made_for_one_thread(context))) {}
  void shutdown() override { state->shutdown(); }
  std::shared_ptr<registry_state> state;
};
asio::execution_context::id asyncgen_registry::id;

}  // namespace

// Long enough for every message of report_about.
constexpr std::size_t spare_message_capacity = 256;

registry_state::registry_state(bool one_thread) : one_thread_(one_thread) { spare_message_.reserve(spare_message_capacity); }

void registry_state::mark_context_gone(frame_base* f) noexcept { f->context_gone_ = true; }

std::shared_ptr<registry_state> registry_of(asio::execution_context& context) {
  return asio::use_service<asyncgen_registry>(context).state;
}

bool registry_state::add(frame_base* f) noexcept {
  bool warn = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (context_gone_) return false;
    f->registry_prev_ = nullptr;
    f->registry_next_ = head_;
    if (head_ != nullptr) head_->registry_prev_ = f;
    head_ = f;
    f->in_registry_ = true;
    warn = shutdown_called_ && f->bookkept_;
  }
  if (warn) report_about("asynchronous generator ", f, " was scheduled after shutdown_asyncgens() call", nullptr);
  return true;
}

void registry_state::unlink(frame_base* f) noexcept {
  if (!f->in_registry_) return;
  if (f->registry_prev_ != nullptr) {
    f->registry_prev_->registry_next_ = f->registry_next_;
  } else {
    head_ = f->registry_next_;
  }
  if (f->registry_next_ != nullptr) f->registry_next_->registry_prev_ = f->registry_prev_;
  f->registry_prev_ = f->registry_next_ = nullptr;
  f->in_registry_ = false;
}

bool registry_state::adopt_dropped(frame_base* f) noexcept {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (context_gone_ || f->context_gone_) {
      unlink(f);
      f->context_gone_ = true;
      return false;
    }
    if (!f->bookkept_ || f->state_ != frame_state::suspended || f->closed_ ||
        policy_ != static_cast<int>(drop_policy::schedule_aclose)) {
      unlink(f);
      return false;
    }
    // It stays in the record, where the context's end finds it (its close may be waiting in an
    // await then), but no shutdown_asyncgens takes it: a shutdown waits for this close instead.
    f->shutdown_taken_ = true;
    ++drop_closes_pending_;
  }
  f->refs_.store(1, std::memory_order_relaxed);  // resurrected: the close owns it now
  f->registry_ = shared_from_this();              // given back: it is dropped again once closed
  f->start_library_close(*this, *this, false);
  return true;
}

void registry_state::close_done(frame_ptr<frame_base> generator, std::exception_ptr error, bool ran) noexcept {
  std::shared_ptr<registry_state> keep = shared_from_this();  // the generator's may be the last reference
  if (!ran) {
    mark_context_gone(generator.get());
  } else if (error) {
    report_close_error(*generator, std::move(error));
  }
  // Dropped again before the count: a shutdown waiting on it completes after all of this close's doing.
  generator = frame_ptr<frame_base>();
  drop_close_finished(ran);
}

frame_base* registry_state::take_all_for_shutdown(std::size_t& count) noexcept {
  frame_base* first = nullptr;
  frame_base** last = &first;
  count = 0;
  std::lock_guard<std::mutex> lock(mutex_);
  shutdown_called_ = true;
  for (frame_base* f = head_; f != nullptr; f = f->registry_next_) {
    if (!f->bookkept_ || f->shutdown_taken_) continue;
    f->shutdown_taken_ = true;
    // One whose count reached zero is being dropped right now: it closes itself.
    if (!f->try_add_ref()) continue;
    *last = f;
    last = &f->closing_.next_to_close;
    ++count;
  }
  return first;
}

bool registry_state::wait_for_drop_closes(drop_close_waiter& waiter) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  if (drop_closes_pending_ == 0) return false;
  waiter.next_waiter = drop_close_waiters_;
  drop_close_waiters_ = &waiter;
  return true;
}

void registry_state::drop_close_finished(bool ran) noexcept {
  drop_close_waiter* waiters;
  bool all_ran;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    drop_close_unrun_ = drop_close_unrun_ || !ran;
    if (--drop_closes_pending_ != 0) return;
    waiters = drop_close_waiters_;
    drop_close_waiters_ = nullptr;
    all_ran = !drop_close_unrun_;
    drop_close_unrun_ = false;
  }
  while (waiters != nullptr) {
    drop_close_waiter* w = waiters;
    waiters = w->next_waiter;  // read first: telling `w` may end its owner
    w->drop_closes_done(all_ran);
  }
}

void shutdown_base::start() noexcept {
  std::size_t count = 0;
  frame_base* next = registry_->take_all_for_shutdown(count);
  // Counted before any close can end: start()'s own one keeps the count above zero until the end.
  remaining_.fetch_add(count + 1, std::memory_order_relaxed);
  if (!registry_->wait_for_drop_closes(*this)) one_done(true);
  while (next != nullptr) {
    frame_base* f = next;
    next = f->take_next_to_close();
    f->start_library_close(*this, *registry_, true);
  }
  one_done(true);
}

void shutdown_base::close_done(frame_ptr<frame_base> generator, std::exception_ptr error, bool ran) noexcept {
  if (ran && error) registry_->report_close_error(*generator, std::move(error));
  // Dropped before the count: the completion comes after all of this close's doing.
  generator = frame_ptr<frame_base>();
  one_done(ran);
}

void shutdown_base::one_done(bool ran) noexcept {
  if (!ran) abandoned_.store(true, std::memory_order_relaxed);
  if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) finish(abandoned_.load(std::memory_order_relaxed));
}

void registry_state::shutdown() noexcept {
  for (;;) {
    frame_base* f;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      context_gone_ = true;
      f = head_;
      if (f == nullptr) return;
      unlink(f);
      f->context_gone_ = true;
      // One whose count reached zero is being dropped right now: its drop tears it down.
      if (!f->try_add_ref()) continue;
    }
    // Outside the lock: the body's destructors may drop other generators.
    f->tear_down();
    f->release();
  }
}

void registry_state::report(const asyncgen_error& error) noexcept {
  std::shared_ptr<const asyncgen_exception_handler> handler;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    handler = handler_;
  }
  if (!handler) {
    print_report("", error.message.c_str(), error.exception);
    return;
  }
  try {
    (*handler)(error);
  } catch (...) {
    std::exception_ptr raised = std::current_exception();
    std::string object;
    try {
      object = "asyncgen exception handler";
    } catch (...) {
      // Memory is short: reported without what it happened in rather than not at all.
    }
    report_unraisable(unraisable{std::move(raised), std::move(object)});
  }
}

void registry_state::report_about(const char* before, frame_base* g, const char* after, std::exception_ptr e) noexcept {
  char name[64] = "";
  if (g != nullptr) g->describe(name);
  const generator_ref asyncgen{frame_ptr<frame_base>(g)};
  try {
    std::string message(before);
    message.append(name).append(after);
    asyncgen_error error{std::move(message), e, asyncgen};
    report(error);
    return;
  } catch (...) {
    // Memory is short: the message goes in the string reserved for this, lent to one report at a time.
  }
  std::string message;
  const bool lent = !spare_message_lent_.exchange(true, std::memory_order_acquire);
  if (lent) {
    message = std::move(spare_message_);
    try {
      message.assign(before).append(name).append(after);  // within the reserved capacity
    } catch (...) {
      message.clear();
    }
  }
  asyncgen_error error{std::move(message), std::move(e), asyncgen};
  report(error);
  if (lent) {
    spare_message_ = std::move(error.message);
    spare_message_.clear();
    spare_message_lent_.store(false, std::memory_order_release);
  }
}

void registry_state::report_close_error(frame_base& g, std::exception_ptr e) noexcept {
  report_about("an error occurred during closing of asynchronous generator ", &g, "", std::move(e));
}

drop_policy registry_state::set_policy(drop_policy p) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto previous = static_cast<drop_policy>(policy_);
  policy_ = static_cast<int>(p);
  return previous;
}

asyncgen_exception_handler registry_state::set_handler(asyncgen_exception_handler h) {
  auto installed = h ? std::make_shared<const asyncgen_exception_handler>(std::move(h)) : nullptr;
  std::lock_guard<std::mutex> lock(mutex_);
  asyncgen_exception_handler previous = handler_ ? *handler_ : asyncgen_exception_handler();
  handler_ = std::move(installed);
  return previous;
}

}  // namespace detail

drop_policy set_drop_policy(asio::execution_context& context, drop_policy policy) {
  return detail::registry_of(context)->set_policy(policy);
}

asyncgen_exception_handler set_asyncgen_exception_handler(asio::execution_context& context,
                                                          asyncgen_exception_handler handler) {
  return detail::registry_of(context)->set_handler(std::move(handler));
}

}  // namespace async_generator
