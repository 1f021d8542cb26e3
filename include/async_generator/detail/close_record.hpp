// What a generator keeps so that the library can close it when memory is short: the record of a
// close the library starts itself (the one a drop schedules, shutdown_asyncgens'), allocated with
// the generator, and the storage the post of that close's start takes.
#ifndef ASYNC_GENERATOR_DETAIL_CLOSE_RECORD_HPP
#define ASYNC_GENERATOR_DETAIL_CLOSE_RECORD_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/detail/reserve.hpp>
#include <async_generator/detail/waiter.hpp>

#include <exception>

namespace async_generator {
namespace detail {

class frame_base;
template <class Frame>
class frame_ptr;

// Told when a close started through a generator's close record ends (frame_base::start_library_close).
class close_listener {
 public:
  // `ran`: the close ran, and failed with `error` when that is not null. Not `ran`: the generator's
  // execution context went first, and nothing ran. `generator` is the reference the close held.
  virtual void close_done(frame_ptr<frame_base> generator, std::exception_ptr error, bool ran) noexcept = 0;

 protected:
  ~close_listener() = default;
};

// Posted to the generator's executor: starts the close there. Destroyed without running (its
// execution context went first), it tells the close's listener so. Its operation is allocated in
// the generator's close record.
class close_start {
 public:
  explicit close_start(frame_base& generator) noexcept : generator_(&generator) {}
  close_start(close_start&& other) noexcept : generator_(other.generator_) { other.generator_ = nullptr; }
  close_start& operator=(close_start&&) = delete;
  ~close_start();

  using allocator_type = reserve_allocator<void>;
  allocator_type get_allocator() const noexcept;

  void operator()();

 private:
  frame_base* generator_;
};

// The close the library runs on a generator: its operation's waiter, completed by the generator's
// run as a handler's is, and what it needs besides.
struct close_record final : waiter {
  explicit close_record(frame_base& owner) noexcept
      : waiter(op_kind::aclose, waiter_target::handler, nullptr, nullptr, nullptr), generator(owner) {
    complete_handler = &close_record::finish;
  }
  close_record(const close_record&) = delete;
  close_record& operator=(const close_record&) = delete;

  // Hands the outcome to the listener, with the close's reference (lib/frame_close.cpp).
  static void finish(waiter* w, bool ran);

  frame_base& generator;
  close_listener* listener = nullptr;   // while a close is under way
  frame_base* next_to_close = nullptr;  // the list of the generators one shutdown_asyncgens closes
  reserve_of<sizeof(compat::io_post_operation<close_start, close_start::allocator_type>), 1> post_storage;
};

}  // namespace detail
}  // namespace async_generator

#endif
