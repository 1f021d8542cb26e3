// Per-operation cancellation: a cancellation slot bound to an operation's token reaches the Asio
// operation the body awaits, which raises operation_aborted there (asyncio's CancelledError).
#include "support.hpp"
#include <async_generator/compat/asio_all.hpp>

#if ASYNC_GENERATOR_HAS_CANCELLATION
#if ASYNC_GENERATOR_HAS_CO_AWAIT

#include <variant>
#endif

#include <array>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace {

using tcp = asio::ip::tcp;
using std::chrono::hours;
using std::chrono::milliseconds;

// operation_aborted's message, which Boost.System ("Operation canceled") and standalone Asio
// ("Operation aborted.") word differently.
const std::string aborted = ag::error_code(asio::error::operation_aborted).message();

bool is_aborted(const std::exception_ptr& e) {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const ag::system_error& x) {
    return x.code() == asio::error::operation_aborted;
  } catch (...) {
    return false;
  }
}

// Waits an hour, unless cancelled: then yields -1 if `handle` is set, or lets the error out.
ag::async_generator<int> sleeper(asio::io_context& io, bool handle, std::string& seen) {
  return ag::make_async_generator<int>(io, [&io, handle, &seen](ag::context<int> co) {
    for (int i = 0;; ++i) {
      asio::steady_timer timer(io, hours(1));
      bool cancelled = false;
      try {
        timer.async_wait(co);
      } catch (const ag::system_error& e) {
        seen += "[" + e.code().message() + "]";
        if (!handle) throw;
        cancelled = true;
      }
      ag::yield_(co, cancelled ? -1 : i);
    }
  });
}

// anext with a callback whose cancellation slot is `signal`'s.
template <class G>
void anext_cancellable(G& g, asio::cancellation_signal& signal, outcome<int>& o, bool& done) {
  g.anext(asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, int v) {
    o.error = e;
    o.value = v;
    done = true;
  }));
}

// anext with a cancellation slot; once the body waits in an await, a cancellation of `type`.
template <class G>
outcome<int> anext_cancelled_in_await(asio::io_context& io, G& g,
                                      asio::cancellation_type type = asio::cancellation_type::terminal) {
  asio::cancellation_signal signal;
  outcome<int> o;
  bool done = false;
  anext_cancellable(g, signal, o, done);
  io.restart();
  io.poll();
  REQUIRE_FALSE(done);
  REQUIRE(signal.slot().has_handler());
  signal.emit(type);
  drive(io, done);
  return o;
}

}  // namespace

TEST_CASE("cancelling anext while the body awaits a timer raises operation_aborted at the await and finishes the generator") {
  asio::io_context io;
  std::string seen;
  auto g = sleeper(io, false, seen);
  outcome<int> o = anext_cancelled_in_await(io, g);
  CHECK(is_aborted(o.error));
  CHECK(seen == "[" + aborted + "]");
  CHECK(is_stop(anext(io, g).error));
}

TEST_CASE("a body that handles the cancellation and yields completes the operation with that value, and stays usable") {
  asio::io_context io;
  std::string seen;
  auto g = sleeper(io, true, seen);
  outcome<int> o = anext_cancelled_in_await(io, g, asio::cancellation_type::partial);
  CHECK_FALSE(o.error);
  CHECK(o.value == -1);
  CHECK(seen == "[" + aborted + "]");
  // The next operation is not cancellable: its await runs to the end (here: cut short by aclose).
  CHECK_FALSE(g.ag_running());
  CHECK_FALSE(aclose(io, g));
}

TEST_CASE("cancelling anext while the body reads from a real socket aborts the read") {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    char byte = 0;
    ag::error_code ec;
    server.async_read_some(asio::buffer(&byte, 1), co[ec]);
    ag::yield_(co, ec == asio::error::operation_aborted ? -1 : byte);
  });
  outcome<int> o = anext_cancelled_in_await(io, g);
  CHECK_FALSE(o.error);
  CHECK(o.value == -1);
}

TEST_CASE("cancelling anext while the body awaits another generator reaches that generator's await") {
  asio::io_context io;
  std::string seen;
  auto inner = sleeper(io, false, seen);
  auto outer = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    try {
      inner.anext(co);
    } catch (const ag::system_error&) {
      seen += "[outer]";
      throw;
    }
  });
  outcome<int> o = anext_cancelled_in_await(io, outer);
  CHECK(is_aborted(o.error));
  CHECK(seen == "[" + aborted + "][outer]");
  CHECK(is_stop(anext(io, inner).error));
}

TEST_CASE("cancellation crosses to a generator on another io_context's thread, awaited through a handler") {
  asio::io_context io;
  io_thread other;
  std::atomic<bool> inner_waits{false};
  std::string seen;  // written on the other thread before the outcome crosses back
  auto inner = ag::make_async_generator<int>(other.io, [&](ag::context<int> co) {
    asio::steady_timer timer(co.get_executor(), hours(1));
    inner_waits = true;
    try {
      timer.async_wait(co);
    } catch (const ag::system_error& e) {
      seen = e.code().message();
      throw;
    }
  });
  auto outer = ag::make_async_generator<int>(io, [&](ag::context<int> co) { ag::yield_(co, inner.anext(co)); });
  asio::cancellation_signal signal;
  outcome<int> o;
  bool done = false;
  anext_cancellable(outer, signal, o, done);
  while (!inner_waits) {  // a request that comes before the timer's handler is in place waits for it
    io.poll();
    std::this_thread::yield();
  }
  signal.emit(asio::cancellation_type::terminal);
  drive(io, done);
  CHECK(is_aborted(o.error));
  CHECK(seen == aborted);
}

TEST_CASE("anext cancelled before it starts raises operation_aborted at the body's yield, as asyncio throws CancelledError there") {
  asio::io_context io;
  std::string seen;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    ag::yield_(co, 1);
    try {
      ag::yield_(co, 2);
      seen += "[resumed]";
    } catch (const ag::system_error& e) {
      seen += "[" + e.code().message() + " at the yield]";
    }
    ag::yield_(co, -2);
  });
  CHECK(anext(io, g).value == 1);
  CHECK(anext(io, g).value == 2);
  asio::cancellation_signal signal;
  outcome<int> o;
  bool done = false;
  anext_cancellable(g, signal, o, done);  // io is not running: the start is posted
  signal.emit(asio::cancellation_type::terminal);
  drive(io, done);
  CHECK(seen == "[" + aborted + " at the yield]");
  CHECK_FALSE(o.error);
  CHECK(o.value == -2);
}

TEST_CASE("anext of an unstarted generator cancelled before it starts finishes it without running the body") {
  asio::io_context io;
  bool ran = false;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    ran = true;
    ag::yield_(co, 1);
  });
  asio::cancellation_signal signal;
  outcome<int> o;
  bool done = false;
  anext_cancellable(g, signal, o, done);
  signal.emit(asio::cancellation_type::terminal);
  drive(io, done);
  CHECK(is_aborted(o.error));
  CHECK_FALSE(ran);
  CHECK(is_stop(anext(io, g).error));
}

TEST_CASE("a cancellation requested while the body runs reaches its next await of the same operation") {
  asio::io_context io;
  asio::cancellation_signal signal;
  std::string seen;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    signal.emit(asio::cancellation_type::terminal);  // the consumer's side, while the body runs
    seen += "[running]";
    asio::steady_timer timer(io, hours(1));
    ag::error_code ec;
    timer.async_wait(co[ec]);
    ag::yield_(co, ec == asio::error::operation_aborted ? -1 : 0);
  });
  outcome<int> o;
  bool done = false;
  anext_cancellable(g, signal, o, done);
  drive(io, done);
  CHECK(seen == "[running]");
  CHECK(o.value == -1);
}

TEST_CASE("a cancellation emitted after the operation completed has no effect, and the slot is cleared") {
  asio::io_context io;
  asio::cancellation_signal signal;
  auto quick = async_range(io, 3);
  outcome<int> o;
  bool done = false;
  anext_cancellable(quick, signal, o, done);
  drive(io, done);
  CHECK(o.value == 0);
  CHECK_FALSE(signal.slot().has_handler());
  signal.emit(asio::cancellation_type::terminal);
  CHECK(anext(io, quick).value == 1);
}

TEST_CASE("a total cancellation is not supported: the await goes on and the operation completes normally") {
  asio::io_context io;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    asio::steady_timer timer(io, milliseconds(20));
    timer.async_wait(co);
    ag::yield_(co, 7);
  });
  outcome<int> o = anext_cancelled_in_await(io, g, asio::cancellation_type::total);
  CHECK_FALSE(o.error);
  CHECK(o.value == 7);
}

TEST_CASE("cancelling aclose while the body's cleanup awaits completes aclose with operation_aborted") {
  asio::io_context io;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    try {
      ag::yield_(co, 1);
    } catch (const ag::generator_exit&) {
    }
    asio::steady_timer timer(io, hours(1));
    timer.async_wait(co);
  });
  CHECK(anext(io, g).value == 1);
  asio::cancellation_signal signal;
  std::exception_ptr error;
  bool done = false;
  g.aclose(asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e) {
    error = e;
    done = true;
  }));
  io.poll();
  REQUIRE_FALSE(done);
  signal.emit(asio::cancellation_type::terminal);
  drive(io, done);
  CHECK(is_aborted(error));
  CHECK(is_stop(anext(io, g).error));
}

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
TEST_CASE("from asio::spawn, cancelling the coroutine cancels the anext it waits on") {
  asio::io_context io;
  std::string seen;
  auto g = sleeper(io, true, seen);
  asio::cancellation_signal signal;
  int got = 0;
  asio::spawn(io, [&](asio::yield_context yield) { got = g.anext(yield); },
              asio::bind_cancellation_slot(signal.slot(), [](std::exception_ptr e) {
                if (e) std::rethrow_exception(e);
              }));
  io.poll();
  REQUIRE(g.ag_running());
  signal.emit(asio::cancellation_type::terminal);
  io.restart();
  io.run();
  CHECK(got == -1);
  CHECK(seen == "[" + aborted + "]");
}
#endif

#if ASYNC_GENERATOR_HAS_DEFERRED
// anext raced against `timer` in a parallel group that waits for the first to complete.
struct race_outcome {
  std::array<std::size_t, 2> order{};
  std::exception_ptr error;
  int value = 0;
  ag::error_code timer_error;
};
template <class G>
race_outcome race_with(asio::io_context& io, G& g, asio::steady_timer& timer) {
  race_outcome r;
  asio::experimental::make_parallel_group(g.anext(asio::deferred), timer.async_wait(asio::deferred))
      .async_wait(asio::experimental::wait_for_one(),
                  [&r](std::array<std::size_t, 2> order, std::exception_ptr e, int v, ag::error_code ec) {
                    r = race_outcome{order, e, v, ec};
                  });
  io.restart();
  io.run();
  return r;
}

TEST_CASE("next item or timeout with make_parallel_group: the losing anext is cancelled and the generator stays usable") {
  asio::io_context io;
  std::string seen;
  auto g = sleeper(io, true, seen);
  asio::steady_timer timeout(io, milliseconds(5));
  race_outcome r = race_with(io, g, timeout);
  CHECK(r.order[0] == 1);  // the timer won
  CHECK_FALSE(r.timer_error);
  CHECK_FALSE(r.error);
  CHECK(r.value == -1);  // the body handled the cancellation and yielded
  CHECK(seen == "[" + aborted + "]");
  CHECK_FALSE(g.ag_running());
  auto quick = async_range(io, 2);
  asio::steady_timer late(io, hours(1));
  r = race_with(io, quick, late);
  CHECK(r.order[0] == 0);  // the item won; the timer was cancelled
  CHECK(r.value == 0);
  CHECK(r.timer_error == asio::error::operation_aborted);
}
#endif

#if ASYNC_GENERATOR_HAS_CO_AWAIT
TEST_CASE("next item or timeout with the awaitable operators: anext || timer") {
  using namespace asio::experimental::awaitable_operators;
  asio::io_context io;
  std::string seen;
  auto g = sleeper(io, false, seen);
  std::string result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer timeout(io, milliseconds(5));
        std::variant<int, std::monostate> r = co_await (g.anext(asio::use_awaitable) || timeout.async_wait(asio::use_awaitable));
        result = r.index() == 1 ? "timeout" : "item";
      },
      asio::detached);
  io.run();
  CHECK(result == "timeout");
  CHECK(seen == "[" + aborted + "]");
  CHECK(is_stop(anext(io, g).error));
}
#endif

#endif  // ASYNC_GENERATOR_HAS_CANCELLATION

#if ASYNC_GENERATOR_HAS_CANCEL_AFTER
TEST_CASE("asio::cancel_after bounds an anext: the body's await fails with operation_aborted when the time is up") {
  asio::io_context io;
  std::string seen;
  auto g = sleeper(io, true, seen);
  outcome<int> first = complete(io, [&](auto h) { g.anext(asio::cancel_after(milliseconds(5), h)); });
  CHECK_FALSE(first.error);
  CHECK(first.value == -1);
  CHECK(seen == "[" + aborted + "]");
  CHECK(anext_cancelled_in_await(io, g).value == -1);  // the generator goes on
}

TEST_CASE("asio::cancel_at bounds an anext: a body that lets operation_aborted out ends, and the anext fails with it") {
  asio::io_context io;
  std::string seen;
  auto g = sleeper(io, false, seen);
  outcome<int> first = complete(io, [&](auto h) {
    g.anext(asio::cancel_at(std::chrono::steady_clock::now() + milliseconds(5), h));
  });
  CHECK(is_aborted(first.error));
  CHECK(is_stop(anext(io, g).error));
}

TEST_CASE("an anext that completes before its cancel_after deadline is not cancelled, and its timer does not hold the io_context") {
  asio::io_context io;
  auto g = async_range(io, 2);
  // complete() runs the io_context until it has no work: the hour-long timer went with the anext.
  outcome<int> first = complete(io, [&](auto h) { g.anext(asio::cancel_after(hours(1), h)); });
  CHECK_FALSE(first.error);
  CHECK(first.value == 0);
}
#endif
