// Next item or timeout: each anext races a timer in an asio::experimental::parallel_group. When
// the timer wins, the group cancels the anext; the cancellation reaches the timer the sensor's
// body awaits, which handles it and gives the reading up, so the generator stays usable.
#include <async_generator.hpp>
#include <async_generator/compat/asio_all.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <exception>
#include <tuple>
#include <vector>

namespace ag = async_generator;
using std::chrono::milliseconds;

constexpr int gave_up = -1;

// A sensor that takes `delays[i]` to produce reading i; a cancelled reading is given up.
const auto sensor = ag::make_generator_function<int>([](ag::context<int> co, std::vector<int> delays) {
  asio::steady_timer timer(co.get_executor());
  for (int i = 0; i < static_cast<int>(delays.size()); ++i) {
    timer.expires_after(milliseconds(delays[static_cast<std::size_t>(i)]));
    ag::error_code ec;
    timer.async_wait(co[ec]);
    if (ec == asio::error::operation_aborted) {
      std::printf("sensor: reading %d cancelled\n", i);
      ag::yield_(co, gave_up);
    } else {
      ag::yield_(co, i);
    }
  }
});

// The next reading, or false when none came within `limit`.
bool next_within(ag::async_generator<int>& gen, milliseconds limit, int& reading, const asio::yield_context& yield) {
  asio::steady_timer deadline(yield.get_executor(), limit);
  std::array<std::size_t, 2> order;
  std::exception_ptr error;
  ag::error_code timer_error;
  std::tie(order, error, reading, timer_error) =
      asio::experimental::make_parallel_group(gen.anext(asio::deferred), deadline.async_wait(asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), yield);
  if (order[0] == 1) return false;  // the deadline came first; the anext was cancelled
  if (error) std::rethrow_exception(error);
  return true;
}

int main() {
  asio::io_context io;
  asio::spawn(io, [&](asio::yield_context yield) {
    auto readings = sensor(io, std::vector<int>{1, 1, 500, 1});
    for (;;) {
      int reading = 0;
      try {
        if (next_within(readings, milliseconds(100), reading, yield)) {
          std::printf("reading %d\n", reading);
        } else {
          std::printf("timeout: no reading within 100 ms\n");
        }
      } catch (const ag::stop_async_iteration&) {
        break;
      }
    }
    std::printf("end of readings\n");
  }, asio::detached);
  io.run();
}
