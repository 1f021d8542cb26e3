// Portability layer: the one place that touches Boost.Context's fiber API.
#ifndef ASYNC_GENERATOR_COMPAT_FIBER_HPP
#define ASYNC_GENERATOR_COMPAT_FIBER_HPP

#include <async_generator/compat/config.hpp>

#include <boost/context/fiber.hpp>

#include <utility>

namespace async_generator {
namespace compat {

using fiber = boost::context::fiber;
using forced_unwind = boost::context::detail::forced_unwind;

// A place where a suspended execution context waits. Switching from one slot to another leaves the
// departing context's continuation in its own slot: the arriving side stores it through `from`,
// so every switch is a single jump with no on-top function.
struct switch_slot {
  fiber cont;
  switch_slot* from = nullptr;
};

ASYNC_GENERATOR_ALWAYS_INLINE void switch_to(switch_slot& self, switch_slot& target) noexcept {
  target.from = &self;
  fiber previous = std::move(target.cont).resume();
  // Back in `self`: whoever switched here named its own slot in self.from (or none when it finished).
  if (self.from != nullptr) self.from->cont = std::move(previous);
}

// First entry into a fresh fiber: the caller's continuation goes to the slot it switched from.
inline void arrive(switch_slot& self, fiber&& caller) noexcept {
  if (self.from != nullptr) self.from->cont = std::move(caller);
}

}  // namespace compat
}  // namespace async_generator

#endif
