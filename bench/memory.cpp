// Memory at scale: 1,000,000 live generators, each suspended at its first yield on a 16 KiB carved
// stack, against 1,000,000 raw Boost.Context fibers on 16 KiB stacks, each suspended in its body.
// Prints `mem <case> <resident_bytes_per_item>` and `bench <case> <ns_per_creation>`.
#include <async_generator.hpp>
#include <async_generator/compat/asio_all.hpp>

#include <boost/context/fiber.hpp>
#include <boost/context/fixedsize_stack.hpp>

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

void report(const char* name, long resident_before, long resident_after, clock_type::duration took) {
  std::printf("mem %s %.0f\n", name, static_cast<double>(resident_after - resident_before) / static_cast<double>(count));
  std::printf("bench %s %.1f\n", name[0] == 'g' ? "create_1m" : "raw_create_1m",
              std::chrono::duration<double, std::nano>(took).count() / static_cast<double>(count));
  std::fflush(stdout);
}

void generators() {
  asio::io_context io;
  std::vector<ag::async_generator<int>> live;
  live.reserve(static_cast<std::size_t>(count));
  const ag::stack_options stack{stack_size, ag::stack_policy::carved};
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
  report("generators_1m", before, after, t1 - t0);
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
  report("raw_fibers_1m", before, after, t1 - t0);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--count") == 0) count = std::atol(argv[++i]);
  }
  raw_fibers();
  generators();
  return 0;
}
