// The per-context record of live, started generators behind asyncgen_service.hpp. It outlives the
// context's service (frames hold it), so a generator dropped after its context is gone finds out.
#ifndef ASYNC_GENERATOR_DETAIL_REGISTRY_HPP
#define ASYNC_GENERATOR_DETAIL_REGISTRY_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/hooks.hpp>

#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace async_generator {
enum class drop_policy;

namespace detail {

class frame_base;

class registry_state : public std::enable_shared_from_this<registry_state> {
 public:
  explicit registry_state(bool one_thread) noexcept : one_thread_(one_thread) {}
  // Its context is an io_context made for one thread (compat::made_for_one_thread).
  bool one_thread() const noexcept { return one_thread_; }
  // Tracks `f`, which has just started; false when the context is gone.
  bool add(frame_base* f) noexcept;
  // What to do with `f`, dropped: schedule its aclose (true; it stays alive until then), or close
  // it here as usual (false; it is marked when its context is gone).
  bool adopt_dropped(frame_base* f) noexcept;
  std::vector<generator_ref> take_all_for_shutdown();
  // Calls `done` once no close scheduled by a drop is pending (false, without calling it: none is).
  bool wait_for_drop_closes(std::function<void()> done);
  void drop_close_finished() noexcept;
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
  void report_close_error(const generator_ref& g, std::exception_ptr e) noexcept;

  drop_policy set_policy(drop_policy p);
  asyncgen_exception_handler set_handler(asyncgen_exception_handler h);

  static void mark_context_gone(frame_base* f) noexcept;

 private:
  void unlink(frame_base* f) noexcept;

  const bool one_thread_;
  std::mutex mutex_;
  frame_base* head_ = nullptr;
  std::atomic<bool> context_gone_{false};  // written under mutex_; read without it by gone()
  bool shutdown_called_ = false;
  int policy_ = 0;  // a drop_policy
  std::size_t drop_closes_pending_ = 0;
  std::vector<std::function<void()>> drop_close_waiters_;
  asyncgen_exception_handler handler_;
};

// The registry of `context` (made on first use).
std::shared_ptr<registry_state> registry_of(asio::execution_context& context);

}  // namespace detail
}  // namespace async_generator

#endif
