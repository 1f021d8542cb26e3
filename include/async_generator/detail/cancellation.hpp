// The cancellation bridge: a handler's cancellation slot connected to the generator's cancel_state.
#ifndef ASYNC_GENERATOR_DETAIL_CANCELLATION_HPP
#define ASYNC_GENERATOR_DETAIL_CANCELLATION_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/compat/cancellation.hpp>
#include <async_generator/detail/cancel_state.hpp>
#include <async_generator/detail/executor.hpp>
#include <async_generator/detail/frame.hpp>
#include <async_generator/detail/waiter.hpp>

#include <utility>

namespace async_generator {
namespace detail {

// Installed in the consumer's cancellation slot. A request, emitted on the consumer's side, is kept
// at once when no await is in flight; otherwise it goes to the generator's executor, where the
// awaited operation is cancelled.
class cancel_forwarder {
 public:
  cancel_forwarder(frame_ptr<frame_base> entry, cancel_state* state, unsigned serial) noexcept
      : entry_(std::move(entry)), state_(state), serial_(serial) {}
  void operator()(compat::cancellation_type_t type) {
    if (state_->request_here(serial_, type)) return;
    frame_ptr<frame_base> entry = entry_;
    cancel_state* state = state_;
    unsigned serial = serial_;
    with_executor(*entry, [&](const auto& e) {
      asio::dispatch(e, [entry, state, serial, type] { state->request(serial, type); });
    });
  }

 private:
  frame_ptr<frame_base> entry_;
  cancel_state* state_;
  unsigned serial_;
};

// Makes the operation `op` of `handler` cancellable through the handler's slot, if it has one.
// `entry`, the generator the operation is started on, owns `state`.
template <class Handler>
void connect_cancellation(waiter& op, const Handler& handler, frame_base& entry, cancel_state* state) {
  auto slot = compat::cancellation_slot_of(handler);
  if (!slot.is_connected() || state == nullptr) return;
  op.cancel = state;
  op.cancel_serial = state->next_serial();
  state->attach(op.cancel_serial);
  slot.template emplace<cancel_forwarder>(frame_ptr<frame_base>(&entry), state, op.cancel_serial);
}

// The operation completed: later requests have no effect, and the slot lets go of the forwarder.
template <class Handler>
void disconnect_cancellation(waiter& op, const Handler& handler) noexcept {
  if (op.cancel == nullptr) return;
  op.cancel->detach(op.cancel_serial);
  compat::cancellation_slot_of(handler).clear();
}

}  // namespace detail
}  // namespace async_generator

#endif
