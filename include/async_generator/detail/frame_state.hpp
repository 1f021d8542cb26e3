// The states of a generator and of its body, the words the frame and its operations share.
#ifndef ASYNC_GENERATOR_DETAIL_FRAME_STATE_HPP
#define ASYNC_GENERATOR_DETAIL_FRAME_STATE_HPP

#include <exception>
#include <type_traits>

namespace async_generator {
namespace detail {

enum class frame_state : unsigned char { created, suspended, running, finished };
// How a body resumed at a yield point goes on: yield_ returns (nothing or the sent value), raises
// the thrown exception, or raises generator_exit (an aclose, or the synchronous close of a drop).
enum class resume_mode : unsigned char { next, send, throw_in, close, close_sync };

// Thrown at a body's suspension point to unwind its stack without running any await. It counts
// itself in its generator's `live` while it exists, so that a suspension attempted after every one
// of them is gone tells a body that swallowed the unwinding (frame_base::unwind).
class unwind_signal {
 public:
  explicit unwind_signal(unsigned& live) noexcept : live_(&live) { ++*live_; }
  unwind_signal(const unwind_signal& other) noexcept : live_(other.live_) { ++*live_; }
  unwind_signal& operator=(const unwind_signal&) = delete;
  ~unwind_signal() { --*live_; }

 private:
  unsigned* live_;
};

// How a body ended: it returned (nothing set), or raised `error`.
struct body_end {
  std::exception_ptr error;
  bool generator_exit_escaped = false;  // error is a generator_exit
  bool stop_escaped = false;            // error is a stop_async_iteration (PEP 479 applies)
  bool unwound = false;                 // the library's unwind_signal ended it
};

// The stand-in for `void` in storage: yielded, sent and returned values always have a type.
struct unit {};
template <class T>
using value_t = typename std::conditional<std::is_void<T>::value, unit, T>::type;

}  // namespace detail
}  // namespace async_generator

#endif
