// The one record of whoever waits on a generator's operation, whatever kind of consumer it is.
#ifndef ASYNC_GENERATOR_DETAIL_WAITER_HPP
#define ASYNC_GENERATOR_DETAIL_WAITER_HPP

#include <exception>

namespace async_generator {
namespace detail {

class cancel_state;
class frame_base;

enum class op_kind : unsigned char { anext, asend, athrow, aclose };

// Where control goes when the generator yields or ends (frame_base::hand_back).
enum class waiter_target : unsigned char {
  handler,  // a completion handler, completed from the native stack the run returns to (handler_op)
  fiber,    // a generator body consuming this one on its executor: its fiber is switched to directly
  native,   // the native stack the run began on (an initiating function's, asio::spawn's), which reads the slots
};

// Installed by frame_base::begin on the generator that runs the operation; it moves down a
// yield_from_ chain's delegates and back up as they end, and is completed by hand_back. Made for
// every item, it initialises only what every kind reads: the rest is set where it means something.
struct waiter {
  // Completes a handler's operation (deallocating it), running the handler when `invoke`.
  using complete_fn = void (*)(waiter*, bool invoke);

  waiter(op_kind kind, waiter_target target, void* value, void* sent, cancel_state* cancel) noexcept
      : kind(kind), target(target), value(value), sent(sent), cancel(cancel) {}
  waiter(const waiter&) = delete;
  waiter& operator=(const waiter&) = delete;

  void complete() { complete_handler(this, true); }
  void destroy() noexcept { complete_handler(this, false); }

  op_kind kind;
  waiter_target target;
  std::exception_ptr error;      // how the operation failed (a stop_async_iteration at the end)
  void* value;                   // where a yielded value goes (a value_t<Y>); null for aclose
  void* sent;                    // where asend's value waits (a value_t<S>)
  cancel_state* cancel;          // when the consumer can cancel the operation
  unsigned cancel_serial;        // with cancel, when a handler's slot is connected to it
  frame_base* entry;             // set by begin: the generator the operation was started on
  frame_base* holder;            // set by begin: the generator whose body runs it now
  frame_base* consumer;          // fiber: the consuming generator
  complete_fn complete_handler;  // handler
};

}  // namespace detail
}  // namespace async_generator

#endif
