// Portability layer: what the kernel offers generator stacks beyond POSIX mappings: guard regions
// (Linux 6.13 and later), and its limit on a process's mappings (vm.max_map_count).
#ifndef ASYNC_GENERATOR_COMPAT_STACK_MEMORY_HPP
#define ASYNC_GENERATOR_COMPAT_STACK_MEMORY_HPP

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>

namespace async_generator {
namespace compat {

// A guard region (madvise MADV_GUARD_INSTALL, Linux 6.13) makes pages of a private anonymous
// mapping fault on access (SIGSEGV, SEGV_MAPERR) as a PROT_NONE page does, without splitting the
// mapping: a guard page that costs no kernel mapping. C libraries older than the kernel lack the name.
#ifdef MADV_GUARD_INSTALL
constexpr int madv_guard_install = MADV_GUARD_INSTALL;
#else
constexpr int madv_guard_install = 102;
#endif

// Makes [first, first + bytes) of a private anonymous mapping a guard region; false when refused.
inline bool install_guard_region(void* first, std::size_t bytes) noexcept {
  return ::madvise(first, bytes, madv_guard_install) == 0;
}

// Whether the kernel has guard regions, tried once per process on a page of a scratch mapping: a
// kernel before 6.13 refuses the advice (EINVAL), and any other failure counts as none too.
inline bool kernel_has_guard_regions() noexcept {
  static const bool has = [] {
    const long page = ::sysconf(_SC_PAGESIZE);
    if (page <= 0) return false;
    const std::size_t bytes = 2 * static_cast<std::size_t>(page);
    void* scratch = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (scratch == MAP_FAILED) return false;
    const bool installed = install_guard_region(scratch, static_cast<std::size_t>(page));
    ::munmap(scratch, bytes);
    return installed;
  }();
  return has;
}

// The kernel's limit on a process's mappings (vm.max_map_count), or `unknown` when it cannot be read.
inline std::size_t max_map_count(std::size_t unknown) noexcept {
  const int fd = ::open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return unknown;
  char text[32];
  const ssize_t n = ::read(fd, text, sizeof text);
  ::close(fd);
  std::size_t limit = 0;
  ssize_t i = 0;
  for (; i < n && text[i] >= '0' && text[i] <= '9'; ++i) limit = limit * 10 + static_cast<std::size_t>(text[i] - '0');
  return i > 0 ? limit : unknown;
}

}  // namespace compat
}  // namespace async_generator

#endif
