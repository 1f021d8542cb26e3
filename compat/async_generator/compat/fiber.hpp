// Portability layer: the one place that touches Boost.Context (its fcontext, the stack switch).
#ifndef ASYNC_GENERATOR_COMPAT_FIBER_HPP
#define ASYNC_GENERATOR_COMPAT_FIBER_HPP

#include <async_generator/compat/config.hpp>

#include <boost/context/detail/exception.hpp>
#include <boost/context/detail/fcontext.hpp>
#include <boost/context/stack_context.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
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

namespace async_generator {
namespace compat {

// The library switches stacks with Boost.Context's fcontext (jump_fcontext), under a fiber of its
// own rather than boost::context::fiber: one switch is one jump, and the exception state is kept
// per fiber at the cost of two reads of the runtime's per-thread record, on every Boost version.
// (boost::context::fiber keeps it only from Boost 1.88, where its save and restore cost about
// four times the jump itself.)
#if defined(BOOST_USE_UCONTEXT) || defined(BOOST_USE_WINFIB)
#error "async_generator switches stacks with Boost.Context's fcontext back-end (its default): build without BOOST_USE_UCONTEXT and BOOST_USE_WINFIB"
#endif

#if defined(__GLIBCXX__) && !defined(__ARM_EABI_UNWINDER__)
/// True when each fiber has its own exception state: the exceptions it is handling
/// (`std::current_exception()`, `throw;`) and the count of those in flight
/// (`std::uncaught_exceptions()`), which the C++ runtime keeps per thread. With libstdc++, every
/// switch of the library saves the departing fiber's and restores the arriving one's, and a new
/// fiber starts with none: a body may await inside a catch block. README, "Exceptions and fibers".
constexpr bool fiber_keeps_exception_state = true;

// libstdc++'s record of a thread's exceptions (its __cxa_eh_globals), as the runtime lays it out.
struct exception_state {
  void* caught;
  unsigned int uncaught;
};
// This thread's record. Out of line (lib/fiber.cpp), and opaque to the optimiser: the runtime
// declares __cxa_get_globals const, but a fiber may resume on another thread, so the record must be
// asked for anew after each switch.
ASYNC_GENERATOR_OPAQUE exception_state* thread_exception_state() noexcept;
#else
// Another runtime: the exception state is the thread's, shared by the fibers it runs.
constexpr bool fiber_keeps_exception_state = false;
#endif

// asio::spawn's coroutines (Boost.Context fibers) are unwound with it: code on their stacks lets it through.
using forced_unwind = boost::context::detail::forced_unwind;
// A stack as Boost.Context's allocators hand it over: its top (sp) and its size.
using stack_context = boost::context::stack_context;

// A suspended execution context, or none (moved from, or finished).
class fiber {
 public:
  fiber() noexcept = default;
  explicit fiber(boost::context::detail::fcontext_t fctx) noexcept : fctx_(fctx) {}
  fiber(fiber&& other) noexcept : fctx_(other.fctx_) { other.fctx_ = nullptr; }
  fiber& operator=(fiber&& other) noexcept {
    fctx_ = other.fctx_;
    other.fctx_ = nullptr;
    return *this;
  }
  // A fiber is never dropped while suspended: the library runs every body to its end (or keeps
  // an abandoned one for good).
  ~fiber() = default;
  explicit operator bool() const noexcept { return fctx_ != nullptr; }
  boost::context::detail::fcontext_t release() noexcept {
    boost::context::detail::fcontext_t f = fctx_;
    fctx_ = nullptr;
    return f;
  }

 private:
  boost::context::detail::fcontext_t fctx_ = nullptr;
};

namespace detail_fiber {

// At the top of a fiber's stack: what it runs, and how its stack is given back.
template <class StackAllocator, class Entry>
struct record {
  stack_context stack;
  StackAllocator allocator;
  Entry entry;

  // The fiber's first frame. Made, it returns at once to make_fiber; switched to, it runs `entry`,
  // which returns the fiber to go on with; its stack is given back from there.
  static void start(boost::context::detail::transfer_t t) noexcept {
    record* self = static_cast<record*>(t.data);
    t = boost::context::detail::jump_fcontext(t.fctx, nullptr);
    fiber next = self->entry(fiber(t.fctx));
    boost::context::detail::ontop_fcontext(next.release(), self, &record::finish);
  }
  // Runs on the fiber gone to, once the ending one has left its stack for good.
  static boost::context::detail::transfer_t finish(boost::context::detail::transfer_t t) noexcept {
    record* self = static_cast<record*>(t.data);
    StackAllocator allocator = std::move(self->allocator);
    stack_context stack = self->stack;
    self->~record();
    allocator.deallocate(stack);
    return {nullptr, nullptr};
  }
};

}  // namespace detail_fiber

// A fiber on a stack from `allocator` (allocate() and deallocate(stack_context&)), running
// `entry(fiber&& caller) -> fiber` when first switched to (see arrive), and then the fiber it
// returns. Its record takes the top of the stack.
template <class StackAllocator, class Entry>
fiber make_fiber(StackAllocator&& allocator, Entry&& entry) {
  using record = detail_fiber::record<typename std::decay<StackAllocator>::type, typename std::decay<Entry>::type>;
  stack_context stack = allocator.allocate();
  const std::uintptr_t top = reinterpret_cast<std::uintptr_t>(stack.sp);
  const std::uintptr_t align = alignof(record) > 16 ? alignof(record) : 16;
  const std::uintptr_t at = (top - sizeof(record)) & ~(align - 1);
  record* rec;
  try {
    rec = new (reinterpret_cast<void*>(at)) record{stack, std::move(allocator), std::forward<Entry>(entry)};
  } catch (...) {
    allocator.deallocate(stack);
    throw;
  }
  // Below the record, as Boost.Context leaves it: 64 bytes, then the stack proper.
  const std::uintptr_t stack_top = at - 64;
  const std::uintptr_t bottom = top - stack.size;
  const boost::context::detail::fcontext_t made = boost::context::detail::make_fcontext(
      reinterpret_cast<void*>(stack_top), stack_top - bottom, &record::start);
  return fiber(boost::context::detail::jump_fcontext(made, rec).fctx);
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
#if defined(__GLIBCXX__) && !defined(__ARM_EABI_UNWINDER__)
  const exception_state mine = *thread_exception_state();
  fiber previous(boost::context::detail::jump_fcontext(target.cont.release(), nullptr).fctx);
  arrived(self);
  *thread_exception_state() = mine;  // on whichever thread resumed this context
#else
  fiber previous(boost::context::detail::jump_fcontext(target.cont.release(), nullptr).fctx);
  arrived(self);
#endif
  // Back in `self`: whoever switched here named its own slot in self.from (or none when it finished).
#if ASYNC_GENERATOR_TSAN
  if (__tsan_get_current_fiber() != self.tsan_fiber) __tsan_switch_to_fiber(self.tsan_fiber, 0);  // from an ending fiber
#endif
  if (self.from != nullptr) self.from->cont = std::move(previous);
}

// First entry into a fresh fiber: the caller's continuation goes to the slot it switched from.
inline void arrive(switch_slot& self, fiber&& caller) noexcept {
  arrived(self);
#if defined(__GLIBCXX__) && !defined(__ARM_EABI_UNWINDER__)
  *thread_exception_state() = exception_state{nullptr, 0};  // a new fiber handles no exception
#endif
  if (self.from != nullptr) self.from->cont = std::move(caller);
}

}  // namespace compat
}  // namespace async_generator

#endif
