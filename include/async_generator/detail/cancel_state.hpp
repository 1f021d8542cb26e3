// Per-operation cancellation: the state, one per generator, through which a request for a
// generator's operation reaches the Asio operation its body awaits.
#ifndef ASYNC_GENERATOR_DETAIL_CANCEL_STATE_HPP
#define ASYNC_GENERATOR_DETAIL_CANCEL_STATE_HPP

#include <async_generator/compat/cancellation.hpp>

#include <atomic>

namespace async_generator {
namespace detail {

// The types a generator's operation honours. `total` is not among them: the body has run, so the
// operation cannot promise it had no effect.
constexpr compat::cancellation_type_t supported_cancellation =
    compat::cancellation_type::terminal | compat::cancellation_type::partial;

// One per generator; used by the cancellable operations started on it, one at a time. Every
// generator an operation runs through (delegates, generators consumed on the way) points to the
// state of the generator the operation was started on. A request comes from the consumer's
// cancellation slot, on whatever thread emits it; the body awaits on its executor's threads. The
// lock serializes the two, and is only ever taken for operations that can be cancelled.
class cancel_state {
 public:
  // The operation numbered `serial` is the one requests go to (unless another still is).
  void attach(unsigned serial) noexcept {
    guard g(*this);
    if (current_ != 0) return;
    current_ = serial;
    pending_ = compat::cancellation_type::none;
  }
  // That operation completed: later requests for it have no effect.
  void detach(unsigned serial) noexcept {
    guard g(*this);
    if (current_ != serial) return;
    current_ = 0;
    pending_ = compat::cancellation_type::none;
  }
  // Whether operation `serial` was cancelled before it started (the request is then used up).
  bool cancelled_before_start(unsigned serial) noexcept {
    guard g(*this);
    if (current_ != serial || pending_ == compat::cancellation_type::none) return false;
    pending_ = compat::cancellation_type::none;
    return true;
  }
  unsigned next_serial() noexcept {
    unsigned s = serials_.fetch_add(1, std::memory_order_relaxed) + 1;
    return s != 0 ? s : next_serial();
  }

  // A request for operation `serial`, on any thread: true when done with (ignored, or kept for the
  // operation's start or its next await); false when an await is in flight, whose operation must
  // be cancelled on the generator's executor, by `request`.
  bool request_here(unsigned serial, compat::cancellation_type_t type) noexcept {
    type = type & supported_cancellation;
    if (type == compat::cancellation_type::none) return true;
    guard g(*this);
    if (current_ != serial) return true;
    if (await_ == await_phase::waiting) return false;
    pending_ = pending_ | type;
    return true;
  }
  // A request for operation `serial`: reaches the await in flight, or waits for the next one.
  void request(unsigned serial, compat::cancellation_type_t type) {
    type = type & supported_cancellation;
    if (type == compat::cancellation_type::none) return;
    guard g(*this);
    if (current_ != serial) return;
    if (await_ == await_phase::waiting) {
      signal_.emit(type);
    } else {
      pending_ = pending_ | type;
    }
  }

  // The slot the awaited Asio operation gets.
  compat::cancellation_slot slot() noexcept { return signal_.slot(); }
  // Around an await's initiation. A request that comes meanwhile (from another thread) waits: the
  // awaited operation may not have put its handler in the slot yet.
  void await_starting() noexcept {
    guard g(*this);
    await_ = await_phase::starting;
  }
  void await_started() {
    guard g(*this);
    if (await_ != await_phase::starting) return;  // it completed already
    await_ = await_phase::waiting;
    if (pending_ == compat::cancellation_type::none) return;
    compat::cancellation_type_t type = pending_;
    pending_ = compat::cancellation_type::none;
    signal_.emit(type);
  }
  // The await completed (or failed to start): the operation's handler, if it left one, goes.
  void await_finished() noexcept {
    guard g(*this);
    await_ = await_phase::none;
    signal_.slot().clear();
  }

 private:
  class guard {
   public:
    explicit guard(cancel_state& s) noexcept : s_(s) {
      while (s_.lock_.test_and_set(std::memory_order_acquire)) {
      }
    }
    ~guard() { s_.lock_.clear(std::memory_order_release); }
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;

   private:
    cancel_state& s_;
  };

  compat::cancellation_signal signal_;
  std::atomic<unsigned> serials_{0};
  unsigned current_ = 0;
  compat::cancellation_type_t pending_ = compat::cancellation_type::none;
  enum class await_phase : unsigned char { none, starting, waiting } await_ = await_phase::none;
  std::atomic_flag lock_ = ATOMIC_FLAG_INIT;
};

}  // namespace detail
}  // namespace async_generator

#endif
