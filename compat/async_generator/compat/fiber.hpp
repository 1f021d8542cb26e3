// Portability layer: the one place that touches Boost.Context's fiber API.
#ifndef ASYNC_GENERATOR_COMPAT_FIBER_HPP
#define ASYNC_GENERATOR_COMPAT_FIBER_HPP

#include <async_generator/compat/config.hpp>

#include <boost/context/fiber.hpp>

#include <cstddef>
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

// ThreadSanitizer follows a stack switch only when told: each execution context gets a TSan fiber,
// and every switch names the one it goes to (which also orders what happened before the switch
// before what happens after it, as the switch itself does).
#if defined(__SANITIZE_THREAD__)
#define ASYNC_GENERATOR_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ASYNC_GENERATOR_TSAN 1
#endif
#endif
#ifndef ASYNC_GENERATOR_TSAN
#define ASYNC_GENERATOR_TSAN 0
#endif
#if ASYNC_GENERATOR_TSAN
#include <sanitizer/tsan_interface.h>
#endif

// AddressSanitizer keeps its own idea of the current stack (for fake stacks of use-after-return
// detection, and for the stack it unpoisons when an exception is thrown): every switch names the
// stack it goes to, and the arriving side learns the bounds of the stack it came from.
#if defined(__SANITIZE_ADDRESS__)
#define ASYNC_GENERATOR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASYNC_GENERATOR_ASAN 1
#endif
#endif
#ifndef ASYNC_GENERATOR_ASAN
#define ASYNC_GENERATOR_ASAN 0
#endif
#if ASYNC_GENERATOR_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

// Whether Boost.Context gives each fiber its own exception state. With libstdc++ the runtime keeps
// the exceptions being handled (and the count of those in flight) per thread; since Boost 1.88
// (boostorg/context#281) every switch saves the departing fiber's and restores the arriving one's
// (boost::context::detail::manage_exception_state). Its presence is what tells, not BOOST_VERSION:
// a Boost.Context newer than the rest of Boost is found too. The qualified name below finds
// Boost.Context's own class when it has one, and this stand-in, through the using-directive,
// when it has none.
namespace async_generator {
namespace compat {
namespace probe {
struct manage_exception_state {};
}  // namespace probe
}  // namespace compat
}  // namespace async_generator
namespace boost {
namespace context {
namespace detail {
using namespace ::async_generator::compat::probe;
}  // namespace detail
}  // namespace context
}  // namespace boost

namespace async_generator {
namespace compat {

#if defined(__GLIBCXX__)
/// True when a fiber switch keeps each fiber's exception state apart (Boost.Context 1.88 and later,
/// with libstdc++): a body may then await inside a catch block. README, "Exceptions and fibers".
constexpr bool fiber_keeps_exception_state =
    !std::is_same<boost::context::detail::manage_exception_state, probe::manage_exception_state>::value;
#else
// Boost.Context's class is an empty stand-in there too: the state is the thread's.
constexpr bool fiber_keeps_exception_state = false;
#endif

using fiber = boost::context::fiber;
using forced_unwind = boost::context::detail::forced_unwind;
// A stack as Boost.Context's allocators hand it over: its top (sp) and its size.
using stack_context = boost::context::stack_context;

// A fiber on a stack from `allocator` (allocate() and deallocate(stack_context&)), running `entry`.
template <class StackAllocator, class Entry>
fiber make_fiber(StackAllocator&& allocator, Entry&& entry) {
  return fiber(std::allocator_arg, std::forward<StackAllocator>(allocator), std::forward<Entry>(entry));
}

// A place where a suspended execution context waits. Switching from one slot to another leaves the
// departing context's continuation in its own slot: the arriving side stores it through `from`,
// so every switch is a single jump with no on-top function.
struct switch_slot {
  fiber cont;
  switch_slot* from = nullptr;
#if ASYNC_GENERATOR_ASAN
  // The stack this slot's context runs on: set for a generator's fiber when its stack is made,
  // learned for any other stack when a switch from it arrives.
  const void* stack_bottom = nullptr;
  std::size_t stack_size = 0;
  void* fake_stack = nullptr;
#endif
#if ASYNC_GENERATOR_TSAN
  switch_slot() noexcept = default;
  switch_slot(const switch_slot&) = delete;
  switch_slot& operator=(const switch_slot&) = delete;
  ~switch_slot() {
    if (owns_tsan_fiber) __tsan_destroy_fiber(tsan_fiber);
  }
  void* tsan_fiber = __tsan_get_current_fiber();  // the stack the slot was made on, until a fiber is made for it
  bool owns_tsan_fiber = false;
#endif
};

// Names the layout of switch_slot, which the sanitizers' annotations extend, in the signature of the
// frame's constructor (as asio_build names the Asio): a program built with AddressSanitizer or
// ThreadSanitizer against a library built without it, or the other way, does not link, and the
// missing symbol names the build of the library it needs.
#if ASYNC_GENERATOR_ASAN
struct library_built_with_address_sanitizer {};
using fiber_build = library_built_with_address_sanitizer;
#elif ASYNC_GENERATOR_TSAN
struct library_built_with_thread_sanitizer {};
using fiber_build = library_built_with_thread_sanitizer;
#else
struct library_built_without_address_or_thread_sanitizer {};
using fiber_build = library_built_without_address_or_thread_sanitizer;
#endif

// The slot is for a fiber about to be created (not for the stack it was made on).
inline void new_fiber_for(switch_slot& slot) noexcept {
#if ASYNC_GENERATOR_TSAN
  if (!slot.owns_tsan_fiber) {
    slot.tsan_fiber = __tsan_create_fiber(0);
    slot.owns_tsan_fiber = true;
  }
#else
  (void)slot;
#endif
}

// The stack a generator's fiber runs on, known when it is made.
inline void stack_of(switch_slot& slot, const void* bottom, std::size_t size) noexcept {
#if ASYNC_GENERATOR_ASAN
  slot.stack_bottom = bottom;
  slot.stack_size = size;
#else
  (void)slot;
  (void)bottom;
  (void)size;
#endif
}

// A fiber that ends returns to `target`'s continuation. For ThreadSanitizer, the ending fiber stays
// the current one until `target` arrives (see switch_to): the functions it returns from on the way
// out must leave their own TSan stack, not the target's.
inline void final_switch_to(switch_slot& target) noexcept {
  target.from = nullptr;
#if ASYNC_GENERATOR_ASAN
  __sanitizer_start_switch_fiber(nullptr, target.stack_bottom, target.stack_size);  // this stack's fake frames go
#endif
}

// After arriving in `self`: tells AddressSanitizer, and notes the bounds of the stack left behind.
inline void arrived(switch_slot& self) noexcept {
#if ASYNC_GENERATOR_ASAN
  const void* bottom = nullptr;
  std::size_t size = 0;
  __sanitizer_finish_switch_fiber(self.fake_stack, &bottom, &size);
  if (self.from != nullptr) {
    self.from->stack_bottom = bottom;
    self.from->stack_size = size;
  }
#else
  (void)self;
#endif
}

ASYNC_GENERATOR_ALWAYS_INLINE void switch_to(switch_slot& self, switch_slot& target) noexcept {
  target.from = &self;
#if ASYNC_GENERATOR_TSAN
  __tsan_switch_to_fiber(target.tsan_fiber, 0);
#endif
#if ASYNC_GENERATOR_ASAN
  __sanitizer_start_switch_fiber(&self.fake_stack, target.stack_bottom, target.stack_size);
#endif
  fiber previous = std::move(target.cont).resume();
  arrived(self);
  // Back in `self`: whoever switched here named its own slot in self.from (or none when it finished).
#if ASYNC_GENERATOR_TSAN
  if (__tsan_get_current_fiber() != self.tsan_fiber) __tsan_switch_to_fiber(self.tsan_fiber, 0);  // from an ending fiber
#endif
  if (self.from != nullptr) self.from->cont = std::move(previous);
}

// First entry into a fresh fiber: the caller's continuation goes to the slot it switched from.
inline void arrive(switch_slot& self, fiber&& caller) noexcept {
  arrived(self);
  if (self.from != nullptr) self.from->cont = std::move(caller);
}

}  // namespace compat
}  // namespace async_generator

#endif
