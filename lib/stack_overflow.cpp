// A body that overflows its guarded stack faults on the guard page. The handler, on a stack of its
// own (sigaltstack), finds the page among the registered guard pages, writes which generator
// overflowed and how to give it more stack, then lets the fault kill the process as it would have.
// Everything here that the handler reads is lock-free, and what it calls is async-signal-safe.
#include "stack_overflow.hpp"

#include <async_generator/detail/stack_pool.hpp>

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <mutex>

namespace async_generator {
namespace detail {
namespace {

std::uintptr_t page_mask() noexcept {
  static const std::uintptr_t mask = ~(static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE)) - 1);
  return mask;
}

// A hash table of guard pages: buckets of nodes that are never freed, only emptied and reused.
// A node is claimed (guard = claimed) before its header is written, then published.
struct guard_node {
  std::atomic<std::uintptr_t> guard{0};  // 0: free
  std::atomic<stack_header*> header{nullptr};
  guard_node* next = nullptr;  // set before the node is published, never changed after
};
constexpr std::uintptr_t claimed = 1;
// A guard-region stack stays registered while the process lives: a million live generators make a
// million nodes, about 16 to a bucket here (512 KiB of buckets, resident only where used).
constexpr unsigned bucket_bits = 16;
constexpr std::size_t bucket_count = std::size_t{1} << bucket_bits;
std::atomic<guard_node*> buckets[bucket_count];
// Nodes emptied and not claimed again. While there are none (guard regions are never unregistered),
// registering pushes a new node without walking the bucket for a free one: at a million entries,
// that walk was most of the cost of making a stack.
std::atomic<std::size_t> free_nodes{0};

std::atomic<guard_node*>& bucket_of(std::uintptr_t guard) noexcept {
  return buckets[static_cast<std::uint64_t>(guard >> 12) * 0x9E3779B97F4A7C15ull >> (64 - bucket_bits)];
}

stack_header* find_guard(std::uintptr_t page) noexcept {
  for (guard_node* n = bucket_of(page).load(std::memory_order_acquire); n != nullptr; n = n->next) {
    if (n->guard.load(std::memory_order_acquire) == page) return n->header.load(std::memory_order_acquire);
  }
  return nullptr;
}

void write_text(const char* s) noexcept {
  std::size_t n = std::strlen(s);
  while (n > 0) {
    const ssize_t w = ::write(STDERR_FILENO, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}

void write_number(std::uintptr_t v, unsigned base) noexcept {
  char buf[32];
  char* p = buf + sizeof buf;
  *--p = '\0';
  do {
    *--p = "0123456789abcdef"[v % base];
    v /= base;
  } while (v != 0);
  write_text(p);
}

struct sigaction previous_action;

void on_fault(int, siginfo_t* info, void*) {
  const std::uintptr_t page = reinterpret_cast<std::uintptr_t>(info->si_addr) & page_mask();
  if (stack_header* header = find_guard(page)) {
    write_overflow_report(header->owner.load(std::memory_order_relaxed), header->size, "\n");
  }
  // Returning retries the faulting access under the previous disposition: by default, the process dies
  // of the SIGSEGV as it would have without this handler.
  ::sigaction(SIGSEGV, &previous_action, nullptr);
}

// Installs the handler unless it is in place, keeping the one it replaces to chain to. Checked at
// each new guarded mapping, since the program may have replaced it since.
void install_handler() {
  struct sigaction current;
  if (::sigaction(SIGSEGV, nullptr, &current) == 0 && (current.sa_flags & SA_SIGINFO) &&
      current.sa_sigaction == &on_fault) {
    return;
  }
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_sigaction = &on_fault;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGSEGV, &action, &previous_action);
}

// This thread's alternate signal stack, when the library made it.
struct alternate_stack {
  static constexpr std::size_t size = 64 * 1024;
  void* memory = nullptr;
  ~alternate_stack() {
    if (memory == nullptr) return;
    stack_t off;
    std::memset(&off, 0, sizeof off);
    off.ss_flags = SS_DISABLE;
    ::sigaltstack(&off, nullptr);
    ::munmap(memory, size);
  }
};

}  // namespace

void write_overflow_report(const void* owner, std::size_t size, const char* ending) noexcept {
  // As frame_base::description() names a generator.
  write_text("async_generator: stack overflow in <async_generator object at 0x");
  write_number(reinterpret_cast<std::uintptr_t>(owner), 16);
  write_text(">: its stack of ");
  write_number(size, 10);
  write_text(" bytes is too small; give it a larger one with stack_options::size or set_default_stack_size");
  write_text(ending);
}

void register_guard(const void* guard, stack_header* header) {
  {
    static std::mutex installing;
    std::lock_guard<std::mutex> lock(installing);
    install_handler();
  }
  const std::uintptr_t key = reinterpret_cast<std::uintptr_t>(guard);
  std::atomic<guard_node*>& bucket = bucket_of(key);
  for (guard_node* n = free_nodes.load(std::memory_order_relaxed) != 0 ? bucket.load(std::memory_order_acquire) : nullptr;
       n != nullptr; n = n->next) {
    std::uintptr_t free = 0;
    if (n->guard.compare_exchange_strong(free, claimed, std::memory_order_acquire)) {
      free_nodes.fetch_sub(1, std::memory_order_relaxed);
      n->header.store(header, std::memory_order_release);
      n->guard.store(key, std::memory_order_release);
      return;
    }
  }
  guard_node* n = new guard_node;
  n->header.store(header, std::memory_order_relaxed);
  n->guard.store(key, std::memory_order_relaxed);
  guard_node* head = bucket.load(std::memory_order_relaxed);
  do {
    n->next = head;
  } while (!bucket.compare_exchange_weak(head, n, std::memory_order_release, std::memory_order_relaxed));
}

void unregister_guard(const void* guard) noexcept {
  const std::uintptr_t key = reinterpret_cast<std::uintptr_t>(guard);
  for (guard_node* n = bucket_of(key).load(std::memory_order_acquire); n != nullptr; n = n->next) {
    if (n->guard.load(std::memory_order_relaxed) == key) {
      n->guard.store(0, std::memory_order_release);
      free_nodes.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
}

void prepare_this_thread_for_overflow_reports() noexcept {
  static thread_local alternate_stack mine;
  thread_prepared_for_overflow_reports() = true;
  stack_t current;
  if (::sigaltstack(nullptr, &current) != 0 || !(current.ss_flags & SS_DISABLE)) return;  // the thread has one
  void* memory = ::mmap(nullptr, alternate_stack::size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return;  // overflows on this thread die unreported, as without the library
  stack_t ss;
  std::memset(&ss, 0, sizeof ss);
  ss.ss_sp = memory;
  ss.ss_size = alternate_stack::size;
  if (::sigaltstack(&ss, nullptr) != 0) {
    ::munmap(memory, alternate_stack::size);
    return;
  }
  mine.memory = memory;
}

}  // namespace detail
}  // namespace async_generator
