// What the benchmark's files share: the item count, the sink that keeps results alive, the clock,
// and the generator every case consumes.
#ifndef ASYNC_GENERATOR_BENCH_COMMON_HPP
#define ASYNC_GENERATOR_BENCH_COMMON_HPP

#include <async_generator.hpp>
#include <async_generator/compat/asio_all.hpp>

#include <chrono>

namespace bench {

namespace ag = async_generator;
using clock_type = std::chrono::steady_clock;

extern long items;  // per case, set by --items
extern volatile long sink;

inline double ns_per_item(clock_type::time_point t0, clock_type::time_point t1) {
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(items);
}

// Each file its own copy (internal linkage): one shared inline function would be compiled in
// either file, inlined as that file's other uses decide, and the linker would keep either. Not every
// file uses it.
__attribute__((unused)) static ag::async_generator<long> counter(asio::io_context& io, long n) {
  return ag::make_async_generator<long>(io, [n](ag::context<long> co) {
    for (long i = 0; i < n; ++i) ag::yield_(co, i);
  });
}

// yield_from_depth.cpp: a yield_from_ chain `depth` generators deep (0: the counter alone), its
// steady state in ns per item from each consumer; what making or closing it costs, in ns per level.
// In a file of its own: the depth cases' calls of anext do not change how the compiler inlines the
// single-level cases' calls (a function called once is inlined where one called four times may not be).
double yield_from_fiber(int depth);
double yield_from_callbacks(int depth);
#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
double yield_from_spawn(int depth);
#endif
#if ASYNC_GENERATOR_HAS_CO_AWAIT
double yield_from_awaitable(int depth);
#endif
double yield_from_build_per_level(int depth);
double yield_from_close_per_level(int depth);

// await.cpp: a generator body awaiting an Asio operation, asio::post(co), in ns per await. In a file
// of its own for the same reason: the await's completion machinery does not spend the inlining the
// other cases' switches get.
double await_post();

}  // namespace bench

#endif
