// Portability layer: per-operation cancellation, Asio's own from Asio 1.19 (Boost 1.77), and before
// it stand-ins that never connect, so that the library's cancellation code is written once.
#ifndef ASYNC_GENERATOR_COMPAT_CANCELLATION_HPP
#define ASYNC_GENERATOR_COMPAT_CANCELLATION_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/compat/config.hpp>

namespace async_generator {
namespace compat {

#if ASYNC_GENERATOR_HAS_CANCELLATION
using cancellation_type = asio::cancellation_type;
using cancellation_type_t = asio::cancellation_type_t;
using cancellation_slot = asio::cancellation_slot;
using cancellation_signal = asio::cancellation_signal;

// The handler's cancellation slot (Boost 1.81's one-argument form is ambiguous for a reference_wrapper).
template <class Handler>
asio::associated_cancellation_slot_t<Handler> cancellation_slot_of(const Handler& handler) noexcept {
  return asio::get_associated_cancellation_slot(handler, asio::cancellation_slot());
}
#else
// No handler has a slot, so no request is ever made: the types only have to compile.
enum class cancellation_type : unsigned int { none = 0, terminal = 1, partial = 2, total = 4, all = 0xffffffff };
using cancellation_type_t = cancellation_type;
constexpr cancellation_type operator&(cancellation_type a, cancellation_type b) noexcept {
  return static_cast<cancellation_type>(static_cast<unsigned int>(a) & static_cast<unsigned int>(b));
}
constexpr cancellation_type operator|(cancellation_type a, cancellation_type b) noexcept {
  return static_cast<cancellation_type>(static_cast<unsigned int>(a) | static_cast<unsigned int>(b));
}

class cancellation_slot {
 public:
  bool is_connected() const noexcept { return false; }
  void clear() noexcept {}
  template <class Handler, class... Args>
  void emplace(Args&&...) noexcept {}
};

class cancellation_signal {
 public:
  void emit(cancellation_type_t) noexcept {}
  cancellation_slot slot() noexcept { return cancellation_slot(); }
};

template <class Handler>
cancellation_slot cancellation_slot_of(const Handler&) noexcept {
  return cancellation_slot();
}
#endif

}  // namespace compat
}  // namespace async_generator

#endif
