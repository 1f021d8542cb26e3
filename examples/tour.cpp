// A tour of the core in one run: a generator awaiting a timer, another consuming it, a return value.
#include <async_generator.hpp>
#include <async_generator/compat/asio_all.hpp>

#include <cstdio>
#include <string>

namespace ag = async_generator;

// A generator that awaits a timer between items and returns a summary.
const auto countdown = ag::make_generator_function<int, void, std::string>(
    [](ag::context<int> co, int from) -> std::string {
      asio::steady_timer timer(co.get_executor());
      for (int i = from; i > 0; --i) {
        ag::yield_(co, i);
        timer.expires_after(std::chrono::milliseconds(5));
        timer.async_wait(co);
      }
      return "liftoff";
    });

// A generator consuming another: the two fibers switch directly, no executor hop.
// Its return value arrives on the first end of iteration, which it reports.
const auto squares = ag::make_generator_function<int>([](ag::context<int> co, ag::async_generator<int, void, std::string>& src) {
  for (;;) {
    int x = 0;
    try {
      x = src.anext(co);
    } catch (const ag::stop_async_iteration& e) {
      std::printf("countdown returned: %s\n", e.value<std::string>().c_str());
      return;
    }
    ag::yield_(co, x * x);
  }
});

int main() {
  asio::io_context io;
  asio::spawn(io, [&](asio::yield_context yield) {
    auto numbers = countdown(io, 5);
    auto squared = squares(io, std::ref(numbers));
    int total = 0;
    for (int v : ag::aiter(squared, yield)) {
      std::printf("square %d\n", v);
      total += v;
    }
    std::printf("summary: 5 squares, total %d\n", total);
  }, asio::detached);
  io.run();
}
