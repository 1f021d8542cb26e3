// The per-context record of live, started generators behind asyncgen_service.hpp. It outlives the
// context's service (frames hold it), so a generator dropped after its context is gone finds out.
#ifndef ASYNC_GENERATOR_DETAIL_REGISTRY_HPP
#define ASYNC_GENERATOR_DETAIL_REGISTRY_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/hooks.hpp>

#include <atomic>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <string>

namespace async_generator {
enum class drop_policy;

namespace detail {

class frame_base;

// Waits, in a list of the registry's own, for the closes that drops have scheduled.
class drop_close_waiter {
 public:
  // Every one is done; `ran` is false when one was destroyed unrun (the context went first).
  virtual void drop_closes_done(bool ran) noexcept = 0;
  drop_close_waiter* next_waiter = nullptr;

 protected:
  ~drop_close_waiter() = default;
};

class registry_state final : public close_listener, public std::enable_shared_from_this<registry_state> {
 public:
  explicit registry_state(bool one_thread);
  // Its context is an io_context made for one thread (compat::made_for_one_thread).
  bool one_thread() const noexcept { return one_thread_; }

  // Tracks `f`, which has just started; false when the context is gone.
  bool add(frame_base* f) noexcept;
  // What to do with `f`, dropped: schedule its aclose (true; it stays alive until then), or close
  // it here as usual (false; it is marked when its context is gone).
  bool adopt_dropped(frame_base* f) noexcept;
  // Marks shutdown_asyncgens called, and takes the live, started generators no shutdown has taken:
  // each with a reference for its close, listed through their close records (take_next_to_close),
  // in the record's order. Returns the first, and their count in `count`.
  frame_base* take_all_for_shutdown(std::size_t& count) noexcept;
  // Lists `waiter`, told once no close scheduled by a drop is pending (false, without listing it: none is).
  bool wait_for_drop_closes(drop_close_waiter& waiter) noexcept;
  // The context is being destroyed: tears down every generator of the record (frame_base::tear_down).
  void shutdown() noexcept;

  // Runs `use` under the record's lock while the context is there: false, without running it, once
  // the context is gone. What `use` does must not run code of the context's.
  template <class Use>
  bool while_alive(Use&& use) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    if (context_gone_) return false;
    use();
    return true;
  }

  // The context is gone (its shutdown has begun).
  bool gone() const noexcept { return context_gone_.load(std::memory_order_acquire); }

  void report(const asyncgen_error& error) noexcept;
  // Reports `e` with the message `before` + the description of `g` (when not null) + `after`. When
  // memory is short, the message is written in a string kept for this; while another report uses
  // that one, it is left empty.
  void report_about(const char* before, frame_base* g, const char* after, std::exception_ptr e) noexcept;
  void report_close_error(frame_base& g, std::exception_ptr e) noexcept;

  drop_policy set_policy(drop_policy p);
  asyncgen_exception_handler set_handler(asyncgen_exception_handler h);

  static void mark_context_gone(frame_base* f) noexcept;

  // The end of a close that a drop scheduled.
  void close_done(frame_ptr<frame_base> generator, std::exception_ptr error, bool ran) noexcept override;

 private:
  void unlink(frame_base* f) noexcept;
  void drop_close_finished(bool ran) noexcept;

  const bool one_thread_;
  std::mutex mutex_;
  frame_base* head_ = nullptr;
  std::atomic<bool> context_gone_{false};  // written under mutex_; read without it by gone()
  bool shutdown_called_ = false;
  int policy_ = 0;  // a drop_policy
  std::size_t drop_closes_pending_ = 0;
  bool drop_close_unrun_ = false;  // one of the pending ones was destroyed unrun
  drop_close_waiter* drop_close_waiters_ = nullptr;
  // Shared, so that a report takes the handler without copying it (a copy may allocate).
  std::shared_ptr<const asyncgen_exception_handler> handler_;
  std::string spare_message_;  // reserved when made: the message of a report when memory is short
  std::atomic<bool> spare_message_lent_{false};
};

// The registry of `context` (made on first use).
std::shared_ptr<registry_state> registry_of(asio::execution_context& context);

}  // namespace detail
}  // namespace async_generator

#endif
