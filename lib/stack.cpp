#include "stack_overflow.hpp"

#include <async_generator/compat/fiber.hpp>
#include <async_generator/compat/valgrind.hpp>
#include <async_generator/detail/frame.hpp>
#include <async_generator/detail/stack_pool.hpp>
#include <async_generator/stack.hpp>


#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <vector>

namespace async_generator {
namespace {

std::atomic<std::size_t> default_size{64 * 1024};
std::atomic<stack_policy> default_policy{stack_policy::guarded};

std::size_t page_size() noexcept {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

// Room at the top of a guarded stack for its header (what an overflow report says).
constexpr std::size_t header_room = 64;
static_assert(sizeof(detail::stack_header) <= header_room, "the stack header fits its room");
static_assert(offsetof(detail::stack_header, serial) == 0, "stack_owner_serial reads the header's first word");

// Stacks whose generators ended, by size, for the next generators. Guarded ones are bounded so an
// idle program does not keep a burst's worth of mappings; carved ones are parts of blocks that stay.
struct stack_pool {
  std::mutex mutex;
  std::vector<compat::stack_context> free;

  bool take(std::size_t size, compat::stack_context& out) {
    std::lock_guard<std::mutex> lock(mutex);
    for (std::size_t i = free.size(); i-- > 0;) {
      if (free[i].size == size) {
        out = free[i];
        free[i] = free.back();
        free.pop_back();
        return true;
      }
    }
    return false;
  }
  bool give(const compat::stack_context& sctx, std::size_t max_kept) noexcept {
    std::lock_guard<std::mutex> lock(mutex);
    if (free.size() >= max_kept) return false;
    try {
      free.push_back(sctx);
    } catch (const std::bad_alloc&) {
      return false;  // a guarded stack is unmapped; a carved one stays unused
    }
    return true;
  }
};
constexpr std::size_t max_guarded_kept = 1024;

// Never destroyed: generators may end during static destruction.
stack_pool& guarded_pool() {
  static stack_pool* p = new stack_pool;
  return *p;
}
stack_pool& carved_pool() {
  static stack_pool* p = new stack_pool;
  return *p;
}

std::string errno_text(int err) { return std::strerror(err); }

compat::stack_context map_guarded(std::size_t usable) {
  const std::size_t total = usable + page_size();  // the guard page below the stack
  void* base = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) {
    throw stack_exhausted("cannot map a generator stack of " + std::to_string(usable) + " bytes: " + errno_text(errno) +
                          " (memory or vm.max_map_count exhausted; lower the stack size with stack_options::size or "
                          "set_default_stack_size, use stack_policy::carved, or raise vm.max_map_count)");
  }
  if (::mprotect(base, page_size(), PROT_NONE) != 0) {
    const int err = errno;
    ::munmap(base, total);
    throw stack_exhausted("cannot protect a generator stack's guard page: " + errno_text(err) +
                          " (vm.max_map_count exhausted: each guarded stack takes two mappings; raise "
                          "vm.max_map_count, or use stack_policy::carved for this many live generators)");
  }
  char* top = static_cast<char*>(base) + total;
  auto* header = new (top - header_room) detail::stack_header;
  header->size = usable - header_room;
  header->valgrind_id = compat::register_stack_with_valgrind(top - usable, top);
  detail::register_guard(base, header);
  compat::stack_context sctx;
  sctx.size = usable - header_room;
  sctx.sp = top - header_room;
  return sctx;
}

detail::stack_header& header_of(const compat::stack_context& sctx) {
  return *static_cast<detail::stack_header*>(sctx.sp);
}

// Carved stacks: cut from blocks mapped without reserve, so only touched pages cost memory.
constexpr std::size_t block_size = 64 * 1024 * 1024;
struct block_cutter {
  std::mutex mutex;
  char* next = nullptr;
  std::size_t left = 0;
};
block_cutter& cutter() {
  static block_cutter* c = new block_cutter;
  return *c;
}

compat::stack_context carve(std::size_t usable) {
  block_cutter& c = cutter();
  std::lock_guard<std::mutex> lock(c.mutex);
  if (c.left < usable) {
    const std::size_t size = usable > block_size ? usable : block_size;
    void* block = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (block == MAP_FAILED) {
      throw stack_exhausted("cannot map a block of " + std::to_string(size) + " bytes for carved generator stacks: " +
                            errno_text(errno) + " (memory exhausted; lower the stack size with stack_options::size "
                            "or set_default_stack_size)");
    }
    c.next = static_cast<char*>(block);  // the tail of the previous block, if any, stays unused
    c.left = size;
  }
  compat::stack_context sctx;
  sctx.size = usable - header_room;
  sctx.sp = c.next + usable - header_room;
  new (sctx.sp) detail::stack_header;
  compat::register_stack_with_valgrind(c.next, c.next + usable);
  c.next += usable;
  c.left -= usable;
  return sctx;
}

}  // namespace

std::size_t default_stack_size() noexcept { return default_size.load(std::memory_order_relaxed); }

void set_default_stack_size(std::size_t bytes) {
  if (bytes < 2 * page_size()) throw std::invalid_argument("set_default_stack_size: a stack needs at least two pages");
  default_size.store(bytes, std::memory_order_relaxed);
}

stack_policy default_stack_policy() noexcept { return default_policy.load(std::memory_order_relaxed); }

void set_default_stack_policy(stack_policy policy) {
  if (policy == stack_policy::default_policy) {
    throw std::invalid_argument("set_default_stack_policy: the default must be guarded or carved");
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
  if (policy == stack_policy::carved) {
    if (!carved_pool().take(usable - header_room, sctx)) sctx = carve(usable);
    header_of(sctx).serial = serial;
    return sctx;
  }
  if (!guarded_pool().take(usable - header_room, sctx)) sctx = map_guarded(usable);
  header_of(sctx).serial = serial;
  header_of(sctx).owner.store(owner, std::memory_order_relaxed);
  return sctx;
}

void deallocate_stack(compat::stack_context& sctx, stack_policy policy) noexcept {
  header_of(sctx).serial = 0;
  if (policy == stack_policy::carved) {
    carved_pool().give(sctx, static_cast<std::size_t>(-1));
    return;
  }
  header_of(sctx).owner.store(nullptr, std::memory_order_relaxed);
  if (guarded_pool().give(sctx, max_guarded_kept)) return;
  char* top = static_cast<char*>(sctx.sp) + header_room;
  const std::size_t total = sctx.size + header_room + page_size();
  void* base = top - total;
  compat::deregister_stack_with_valgrind(header_of(sctx).valgrind_id);
  unregister_guard(base);
  ::munmap(base, total);
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
    compat::stack_of(frame_->self_, frame_->stack_lo_, sctx.size);
    return sctx;
  }
  // The stack may outlive the frame (a fiber unwound as its frame is destroyed): nothing of it is read here.
  void deallocate(compat::stack_context& sctx) noexcept { deallocate_stack(sctx, policy_); }

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
