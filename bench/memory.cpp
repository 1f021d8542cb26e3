// Memory at scale: 1,000,000 live generators, each suspended at its first yield on a 16 KiB stack
// (of the default policy, and carved), against 1,000,000 raw Boost.Context fibers on 16 KiB stacks,
// each suspended in its body. Each case runs in a process of its own: none reuses the memory an
// earlier one freed, or finds it still kept in the stack pools.
// Prints `mem <case> <resident_bytes_per_item>` and `bench <case> <ns_per_creation>`.
#include <async_generator.hpp>
#include <async_generator/compat/asio_all.hpp>

#include <boost/context/fiber.hpp>
#include <boost/context/fixedsize_stack.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

namespace ag = async_generator;
namespace ctx = boost::context;

namespace {

using clock_type = std::chrono::steady_clock;
constexpr std::size_t stack_size = 16 * 1024;
long count = 1000000;

long resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0;
  long resident = 0;
  statm >> pages >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

// `mem <mem_case> ...` and `bench <time_case> ...`.
void report(const char* mem_case, const char* time_case, long resident_before, long resident_after,
            clock_type::duration took) {
  std::printf("mem %s %.0f\n", mem_case, static_cast<double>(resident_after - resident_before) / static_cast<double>(count));
  std::printf("bench %s %.1f\n", time_case,
              std::chrono::duration<double, std::nano>(took).count() / static_cast<double>(count));
  std::fflush(stdout);
}

void generators(ag::stack_policy policy, const char* mem_case, const char* time_case) {
  asio::io_context io;
  std::vector<ag::async_generator<int>> live;
  live.reserve(static_cast<std::size_t>(count));
  const ag::stack_options stack{stack_size, policy};
  long started = 0;
  const long before = resident_bytes();
  const auto t0 = clock_type::now();
  // Made and started from a consuming generator's body: no handler, no executor hop per generator.
  auto maker = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    for (long i = 0; i < count; ++i) {
      live.push_back(ag::make_async_generator<int>(io, [](ag::context<int> body) {
        for (int k = 0;; ++k) ag::yield_(body, k);
      }, stack));
      started += live.back().anext(co) == 0;
    }
    ag::yield_(co, 0);
  });
  maker.anext([](std::exception_ptr, int) {});
  io.run();
  const auto t1 = clock_type::now();
  const long after = resident_bytes();
  if (started != count) std::printf("error: %ld of %ld generators started\n", started, count);
  report(mem_case, time_case, before, after, t1 - t0);
  live.clear();  // each is closed: its stack unwound
}

void raw_fibers() {
  std::vector<ctx::fiber> live;
  live.reserve(static_cast<std::size_t>(count));
  ctx::fixedsize_stack stacks(stack_size);
  const long before = resident_bytes();
  const auto t0 = clock_type::now();
  for (long i = 0; i < count; ++i) {
    ctx::fiber f(std::allocator_arg, stacks, [](ctx::fiber&& caller) {
      for (;;) caller = std::move(caller).resume();
      return std::move(caller);
    });
    live.push_back(std::move(f).resume());
  }
  const auto t1 = clock_type::now();
  const long after = resident_bytes();
  report("raw_fibers_1m", "raw_create_1m", before, after, t1 - t0);
}

// Runs `measure` in a child process, and waits for it.
template <class Measure>
void in_a_process_of_its_own(Measure measure) {
  std::fflush(stdout);
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(1);
  }
  if (pid == 0) {
    measure();
    std::fflush(stdout);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) std::printf("error: a case failed (wait status %d)\n", status);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--count") == 0) count = std::atol(argv[++i]);
  }
  in_a_process_of_its_own(raw_fibers);
  in_a_process_of_its_own([] { generators(ag::stack_policy::carved, "generators_1m", "create_1m"); });
  // The default policy: guard regions where the kernel has them (Linux 6.13 and later).
  in_a_process_of_its_own([] { generators(ag::stack_policy::default_policy, "generators_default_1m", "create_default_1m"); });
  return 0;
}
