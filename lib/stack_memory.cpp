#include "stack_memory.hpp"

#include "stack_overflow.hpp"

#include <async_generator/compat/stack_memory.hpp>
#include <async_generator/compat/valgrind.hpp>
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
namespace detail {
namespace {

static_assert(offsetof(stack_header, serial) == 0, "stack_owner_serial reads the header's first word");

// Stacks of one pool whose generators ended, by size, for the next generators.
class stack_pool {
 public:
  explicit stack_pool(std::size_t max_kept) noexcept : max_kept_(max_kept) {}

  bool take(std::size_t size, compat::stack_context& out) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    for (same_size& s : sizes_) {
      if (s.size != size || s.free.empty()) continue;
      out = s.free.back();
      s.free.pop_back();
      --kept_;
      return true;
    }
    return false;
  }
  bool give(const compat::stack_context& sctx) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    if (kept_ >= max_kept_) return false;
    try {
      same_size* s = nullptr;
      for (same_size& t : sizes_) {
        if (t.size == sctx.size) s = &t;
      }
      if (s == nullptr) {
        sizes_.push_back(same_size{sctx.size, {}});
        s = &sizes_.back();
      }
      s->free.push_back(sctx);
    } catch (const std::bad_alloc&) {
      return false;
    }
    ++kept_;
    return true;
  }

 private:
  // Few sizes, many stacks of each: finding a size is a short scan, taking a stack of it a pop.
  struct same_size {
    std::size_t size;
    std::vector<compat::stack_context> free;
  };
  std::mutex mutex_;
  std::vector<same_size> sizes_;
  std::size_t kept_ = 0;
  const std::size_t max_kept_;
};

// Never destroyed: generators may end during static destruction. Guard mappings are bounded so an
// idle program does not keep a burst's worth of mappings; carved stacks are parts of blocks that stay.
stack_pool& mapping_pool() {
  static stack_pool* p = new stack_pool(1024);
  return *p;
}
stack_pool& region_pool() {
  static stack_pool* p = new stack_pool(static_cast<std::size_t>(-1));
  return *p;
}
stack_pool& carved_pool() {
  static stack_pool* p = new stack_pool(static_cast<std::size_t>(-1));
  return *p;
}
stack_pool& pool_of(stack_kind kind) {
  switch (kind) {
    case stack_kind::guard_mapping:
      return mapping_pool();
    case stack_kind::guard_region:
      return region_pool();
    default:
      return carved_pool();
  }
}

std::atomic<std::size_t> live_guard_mappings{0};

std::string errno_text(int err) { return std::strerror(err); }

// The stack whose top is `top`, its header made for `kind`.
compat::stack_context stack_below(char* top, std::size_t usable, stack_kind kind) {
  auto* header = new (top - header_room) stack_header;
  header->size = usable - header_room;
  header->kind = kind;
  header->valgrind_id = compat::register_stack_with_valgrind(top - usable, top);
  compat::stack_context sctx;
  sctx.size = usable - header_room;
  sctx.sp = top - header_room;
  return sctx;
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

// Cuts `bytes` from the current block, or from a new one when it has not that much left. With
// `guard_first_page`, that page becomes a guard region first; nothing is cut (null) if the kernel
// refuses it. `stacks` names them in the error ("guarded", "carved").
char* cut(std::size_t bytes, bool guard_first_page, const char* stacks) {
  block_cutter& c = cutter();
  std::lock_guard<std::mutex> lock(c.mutex);
  if (c.left < bytes) {
    const std::size_t size = bytes > block_size ? bytes : block_size;
    void* block = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (block == MAP_FAILED) {
      throw stack_exhausted("cannot map a block of " + std::to_string(size) + " bytes for " + stacks +
                            " generator stacks: " + errno_text(errno) + " (memory exhausted; lower the stack size "
                            "with stack_options::size or set_default_stack_size)");
    }
    c.next = static_cast<char*>(block);  // the tail of the previous block, if any, stays unused
    c.left = size;
  }
  if (guard_first_page && !compat::install_guard_region(c.next, page_size())) return nullptr;
  char* part = c.next;
  c.next += bytes;
  c.left -= bytes;
  return part;
}

}  // namespace

std::size_t page_size() noexcept {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

bool take_pooled(stack_kind kind, std::size_t usable, compat::stack_context& out) noexcept {
  if (!pool_of(kind).take(usable - header_room, out)) return false;
  header_of(out).kind = kind;
  return true;
}

void give_back(compat::stack_context& sctx) noexcept {
  stack_header& header = header_of(sctx);
  if (pool_of(header.kind).give(sctx) || header.kind != stack_kind::guard_mapping) return;
  // Not kept: a guard mapping is unmapped, a carved stack stays unused.
  char* top = static_cast<char*>(sctx.sp) + header_room;
  const std::size_t total = sctx.size + header_room + page_size();
  void* base = top - total;
  compat::deregister_stack_with_valgrind(header.valgrind_id);
  unregister_guard(base);
  ::munmap(base, total);
  live_guard_mappings.fetch_sub(1, std::memory_order_relaxed);
}

compat::stack_context map_guarded(std::size_t usable) {
  const std::size_t total = usable + page_size();  // the guard page below the stack
  void* base = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) {
    throw stack_exhausted("cannot map a generator stack of " + std::to_string(usable) + " bytes: " + errno_text(errno) +
                          " (memory or vm.max_map_count exhausted; lower the stack size with stack_options::size or "
                          "set_default_stack_size, use stack_policy::adaptive, or raise vm.max_map_count)");
  }
  if (::mprotect(base, page_size(), PROT_NONE) != 0) {
    const int err = errno;
    ::munmap(base, total);
    throw stack_exhausted("cannot protect a generator stack's guard page: " + errno_text(err) +
                          " (vm.max_map_count exhausted: each guarded stack takes two mappings; raise "
                          "vm.max_map_count, or use stack_policy::adaptive (the default) for this many live generators)");
  }
  compat::stack_context sctx = stack_below(static_cast<char*>(base) + total, usable, stack_kind::guard_mapping);
  register_guard(base, &header_of(sctx));
  live_guard_mappings.fetch_add(1, std::memory_order_relaxed);
  return sctx;
}

bool carve_guarded(std::size_t usable, compat::stack_context& out) {
  char* guard = cut(page_size() + usable, true, "guarded");
  if (guard == nullptr) return false;
  out = stack_below(guard + page_size() + usable, usable, stack_kind::guard_region);
  register_guard(guard, &header_of(out));  // for the life of the process: the stack stays
  return true;
}

compat::stack_context carve(std::size_t usable, stack_kind kind) {
  char* lo = cut(usable, false, "carved");
  return stack_below(lo + usable, usable, kind);
}

std::size_t guard_mappings_live() noexcept { return live_guard_mappings.load(std::memory_order_relaxed); }

}  // namespace detail
}  // namespace async_generator
