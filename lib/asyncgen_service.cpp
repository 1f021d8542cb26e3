#include <async_generator/compat/asio.hpp>
#include <async_generator/asyncgen_service.hpp>
#include <async_generator/detail/frame.hpp>
#include <async_generator/unraisable.hpp>

#include <cstdio>

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

// The aclose of a dropped generator, posted to its executor. Destroyed without running (the
// context went first), it marks the generator so that its stack is unwound without running anything.
class scheduled_close {
 public:
  scheduled_close(frame_base* f, std::shared_ptr<registry_state> registry) noexcept
      : frame_(f), generator_(frame_ptr<frame_base>(f, false)), registry_(std::move(registry)) {}
  scheduled_close(scheduled_close&& other) noexcept
      : frame_(other.frame_), generator_(std::move(other.generator_)), registry_(std::move(other.registry_)) {
    other.frame_ = nullptr;
  }
  scheduled_close& operator=(scheduled_close&&) = delete;
  ~scheduled_close() {
    if (frame_ == nullptr) return;
    registry_state::mark_context_gone(frame_);
    if (registry_) registry_->drop_close_finished();
  }

  void operator()() {
    frame_ = nullptr;
    generator_ref closing = generator_;
    std::shared_ptr<registry_state> registry = std::move(registry_);
    generator_.aclose([closing, registry](std::exception_ptr e) {
      if (e) registry->report_close_error(closing, e);
      registry->drop_close_finished();
    });
  }

 private:
  frame_base* frame_;
  generator_ref generator_;
  std::shared_ptr<registry_state> registry_;
};

}  // namespace

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
  if (warn) {
    try {
      report(asyncgen_error{"asynchronous generator " + f->description() + " was scheduled after shutdown_asyncgens() call",
                            nullptr, generator_ref(frame_ptr<frame_base>(f))});
    } catch (...) {
      // The warning could not be put into words (memory is short): the generator is tracked all the same.
    }
  }
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
  std::unique_lock<std::mutex> lock(mutex_);
  unlink(f);
  if (context_gone_) {
    f->context_gone_ = true;
    return false;
  }
  if (!f->bookkept_ || f->state_ != frame_state::suspended || f->closed_ ||
      policy_ != static_cast<int>(drop_policy::schedule_aclose)) {
    return false;
  }
  ++drop_closes_pending_;
  lock.unlock();
  f->refs_.store(1, std::memory_order_relaxed);  // resurrected: the scheduled close owns it now
  scheduled_close close(f, shared_from_this());
  try {
    asio::post(f->ex_, std::move(close));
  } catch (...) {
    // Could not schedule: `close` is destroyed unrun, and the generator with it, unwound.
  }
  return true;
}

std::vector<generator_ref> registry_state::take_all_for_shutdown() {
  std::vector<generator_ref> live;
  std::lock_guard<std::mutex> lock(mutex_);
  shutdown_called_ = true;
  for (frame_base* f = head_; f != nullptr; f = f->registry_next_) {
    if (!f->bookkept_ || f->shutdown_taken_) continue;
    f->shutdown_taken_ = true;
    // One whose count reached zero is being dropped right now: it closes itself.
    if (f->try_add_ref()) live.emplace_back(frame_ptr<frame_base>(f, false));
  }
  return live;
}

bool registry_state::wait_for_drop_closes(std::function<void()> done) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (drop_closes_pending_ == 0) return false;
  drop_close_waiters_.push_back(std::move(done));
  return true;
}

void registry_state::drop_close_finished() noexcept {
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (--drop_closes_pending_ != 0) return;
    waiters.swap(drop_close_waiters_);
  }
  for (auto& w : waiters) w();
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
  asyncgen_exception_handler handler;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    handler = handler_;
  }
  try {
    if (handler) {
      handler(error);
      return;
    }
  } catch (...) {
    report_unraisable(unraisable{std::current_exception(), "asyncgen exception handler"});
    return;
  }
  if (error.exception) {
    std::fprintf(stderr, "%s\n%s\n", error.message.c_str(), describe_exception(error.exception).c_str());
  } else {
    std::fprintf(stderr, "%s\n", error.message.c_str());
  }
}

void registry_state::report_close_error(const generator_ref& g, std::exception_ptr e) noexcept {
  try {
    report(asyncgen_error{"an error occurred during closing of asynchronous generator " + g.description(), std::move(e), g});
  } catch (...) {
  }
}

drop_policy registry_state::set_policy(drop_policy p) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto previous = static_cast<drop_policy>(policy_);
  policy_ = static_cast<int>(p);
  return previous;
}

asyncgen_exception_handler registry_state::set_handler(asyncgen_exception_handler h) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::swap(handler_, h);
  return h;
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
