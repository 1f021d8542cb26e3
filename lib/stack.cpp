// The stack policies: which kind of stack a generator gets, and the process-wide defaults.
#include "stack_canary.hpp"
#include "stack_memory.hpp"

#include <async_generator/compat/fiber.hpp>
#include <async_generator/compat/stack_memory.hpp>
#include <async_generator/detail/frame.hpp>
#include <async_generator/detail/stack_pool.hpp>
#include <async_generator/stack.hpp>

#include <atomic>
#include <stdexcept>

namespace async_generator {
namespace {

std::atomic<std::size_t> default_size{64 * 1024};
std::atomic<stack_policy> default_policy{stack_policy::adaptive};

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

// What the tests may make the policies see (detail::simulate_stack_conditions).
std::atomic<bool> guard_regions_refused{false};
constexpr std::size_t budget_unread = static_cast<std::size_t>(-1);
std::atomic<std::size_t> mapping_budget{budget_unread};

bool use_guard_regions() noexcept {
  return !guard_regions_refused.load(std::memory_order_relaxed) && compat::kernel_has_guard_regions();
}

// A quarter of the kernel's mappings for guarded stacks of their own (each takes two): half of
// them, the rest left to the program.
std::size_t guard_mapping_budget() noexcept {
  std::size_t budget = mapping_budget.load(std::memory_order_relaxed);
  if (budget == budget_unread) {
    budget = compat::max_map_count(65530) / 4;
    mapping_budget.store(budget, std::memory_order_relaxed);
  }
  return budget;
}

using detail::stack_kind;

compat::stack_context guarded_stack(std::size_t usable) {
  compat::stack_context sctx;
  if (use_guard_regions()) {
    if (detail::take_pooled(stack_kind::guard_region, usable, sctx) || detail::carve_guarded(usable, sctx)) return sctx;
  }
  if (detail::take_pooled(stack_kind::guard_mapping, usable, sctx)) return sctx;
  return detail::map_guarded(usable);
}

compat::stack_context carved_stack(std::size_t usable, stack_kind kind) {
  compat::stack_context sctx;
  if (detail::take_pooled(kind, usable, sctx)) return sctx;
  return detail::carve(usable, kind);
}

// A guard page wherever it costs no kernel mapping; else one in a mapping of its own while the
// budget lasts; else a canary. A kind that cannot be had passes to the next.
compat::stack_context adaptive_stack(std::size_t usable) {
  compat::stack_context sctx;
  if (use_guard_regions()) {
    try {
      if (detail::take_pooled(stack_kind::guard_region, usable, sctx) || detail::carve_guarded(usable, sctx)) return sctx;
    } catch (const stack_exhausted&) {
    }
  }
  if (detail::take_pooled(stack_kind::guard_mapping, usable, sctx)) return sctx;
  if (detail::guard_mappings_live() < guard_mapping_budget()) {
    try {
      return detail::map_guarded(usable);
    } catch (const stack_exhausted&) {
    }
  }
  sctx = carved_stack(usable, stack_kind::canary);
  detail::write_canary(static_cast<char*>(sctx.sp) - sctx.size);
  return sctx;
}

}  // namespace

std::size_t default_stack_size() noexcept { return default_size.load(std::memory_order_relaxed); }

void set_default_stack_size(std::size_t bytes) {
  if (bytes < 2 * detail::page_size()) {
    throw std::invalid_argument("set_default_stack_size: a stack needs at least two pages");
  }
  default_size.store(bytes, std::memory_order_relaxed);
}

stack_policy default_stack_policy() noexcept { return default_policy.load(std::memory_order_relaxed); }

void set_default_stack_policy(stack_policy policy) {
  if (policy == stack_policy::default_policy) {
    throw std::invalid_argument("set_default_stack_policy: the default must be adaptive, guarded or carved");
  }
  default_policy.store(policy, std::memory_order_relaxed);
}

namespace detail {

stack_policy resolve(stack_policy policy) noexcept {
  return policy == stack_policy::default_policy ? default_stack_policy() : policy;
}

compat::stack_context allocate_stack(std::size_t size, stack_policy policy, const void* owner, unsigned long long serial) {
  if (size == 0) size = default_stack_size();
  const std::size_t usable = round_up(size, page_size());
  compat::stack_context sctx;
  switch (policy) {
    case stack_policy::carved:
      sctx = carved_stack(usable, stack_kind::carved);
      break;
    case stack_policy::guarded:
      sctx = guarded_stack(usable);
      break;
    default:
      sctx = adaptive_stack(usable);
      break;
  }
  header_of(sctx).serial = serial;
  header_of(sctx).owner.store(owner, std::memory_order_relaxed);
  return sctx;
}

void deallocate_stack(compat::stack_context& sctx) noexcept {
  stack_header& header = header_of(sctx);
  header.serial = 0;
  header.owner.store(nullptr, std::memory_order_relaxed);
  give_back(sctx);
}

stack_conditions current_stack_conditions() noexcept { return stack_conditions{use_guard_regions(), guard_mapping_budget()}; }

void simulate_stack_conditions(stack_conditions conditions) noexcept {
  guard_regions_refused.store(!conditions.guard_regions, std::memory_order_relaxed);
  mapping_budget.store(conditions.mapping_budget, std::memory_order_relaxed);
}

// The stack allocator of a body's fiber: pooled stacks, whose bounds the frame keeps so that
// yield_ can tell whether it runs on its own generator's fiber.
class frame_stack {
 public:
  frame_stack(frame_base* f, std::size_t size, stack_policy policy) noexcept : frame_(f), size_(size), policy_(policy) {}
  compat::stack_context allocate() {
    compat::stack_context sctx = allocate_stack(size_, policy_, frame_, frame_->serial_);
    frame_->stack_hi_ = static_cast<const char*>(sctx.sp);
    frame_->stack_lo_ = frame_->stack_hi_ - sctx.size;
    frame_->stack_canary_ = header_of(sctx).kind == stack_kind::canary;
    compat::stack_of(frame_->self_, frame_->stack_lo_, sctx.size);
    return sctx;
  }
  // The stack may outlive the frame (a fiber unwound as its frame is destroyed): nothing of it is read here.
  void deallocate(compat::stack_context& sctx) noexcept { deallocate_stack(sctx); }

 private:
  frame_base* frame_;
  std::size_t size_;
  stack_policy policy_;
};

compat::fiber frame_base::make_fiber() {
  compat::new_fiber_for(self_);
  prepare_thread_for_overflow_reports();
  return compat::make_fiber(frame_stack(this, stack_.size, stack_.policy),
                            [this](compat::fiber&& caller) { return run(std::move(caller)); });
}

}  // namespace detail
}  // namespace async_generator
