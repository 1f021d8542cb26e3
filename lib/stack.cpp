#include <async_generator/detail/stack_pool.hpp>
#include <async_generator/stack.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

namespace async_generator {
namespace {

std::atomic<std::size_t> default_size{64 * 1024};

std::size_t page_size() noexcept {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

// Stacks returned to the pool, by size. Bounded so an idle program does not keep a burst's worth.
struct pool {
  std::mutex mutex;
  std::vector<boost::context::stack_context> free;
  static constexpr std::size_t max_cached = 1024;
};

pool& the_pool() {
  static pool* p = new pool;  // never destroyed: generators may end during static destruction
  return *p;
}

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

}  // namespace

std::size_t default_stack_size() noexcept { return default_size.load(std::memory_order_relaxed); }

void set_default_stack_size(std::size_t bytes) {
  if (bytes < 2 * page_size()) throw std::invalid_argument("set_default_stack_size: a stack needs at least two pages");
  default_size.store(bytes, std::memory_order_relaxed);
}

namespace detail {

boost::context::stack_context allocate_stack(std::size_t size) {
  if (size == 0) size = default_stack_size();
  const std::size_t usable = round_up(size, page_size());
  {
    pool& p = the_pool();
    std::lock_guard<std::mutex> lock(p.mutex);
    for (std::size_t i = p.free.size(); i-- > 0;) {
      if (p.free[i].size == usable) {
        boost::context::stack_context sctx = p.free[i];
        p.free[i] = p.free.back();
        p.free.pop_back();
        return sctx;
      }
    }
  }
  const std::size_t total = usable + page_size();  // one guard page below the stack
  void* base = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) {
    throw stack_exhausted(std::string("cannot map a generator stack of ") + std::to_string(usable) +
                          " bytes: " + std::strerror(errno) +
                          " (memory or vm.max_map_count exhausted; lower the stack size with "
                          "stack_options::size or set_default_stack_size, or raise vm.max_map_count)");
  }
  if (::mprotect(base, page_size(), PROT_NONE) != 0) {
    const int err = errno;
    ::munmap(base, total);
    throw stack_exhausted(std::string("cannot protect a generator stack's guard page: ") + std::strerror(err) +
                          " (vm.max_map_count exhausted; raise it, or lower the number of live generators)");
  }
  boost::context::stack_context sctx;
  sctx.size = usable;
  sctx.sp = static_cast<char*>(base) + total;
  return sctx;
}

void deallocate_stack(boost::context::stack_context& sctx) noexcept {
  {
    pool& p = the_pool();
    std::lock_guard<std::mutex> lock(p.mutex);
    if (p.free.size() < pool::max_cached) {
      p.free.push_back(sctx);
      return;
    }
  }
  void* base = static_cast<char*>(sctx.sp) - sctx.size - page_size();
  ::munmap(base, sctx.size + page_size());
}

}  // namespace detail
}  // namespace async_generator
